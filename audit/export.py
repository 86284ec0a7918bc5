import csv

from django.http import StreamingHttpResponse

COLUMNS = ("time", "username", "address", "source", "method", "action", "path", "target", "status", "result",
           "job_id", "params", "detail")


class _Echo:
    def write(self, value):
        return value


def csv_response(entries):
    """The entries as CSV, streamed row by row (an export of the whole log stays small in memory)."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(COLUMNS)
        for entry in entries.iterator(chunk_size=500):
            yield writer.writerow([entry.time.isoformat(), entry.username, entry.address, entry.source, entry.method,
                                   entry.action, entry.path, entry.target, entry.status, entry.result, entry.job_id,
                                   entry.params, entry.detail])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="virtdeck-audit.csv"'
    return response
