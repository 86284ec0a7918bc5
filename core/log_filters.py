import logging


class WithoutTraceback(logging.Filter):
    """Logs a record as its one message line: for refusals that are expected, such as a bad Host header,
    where a traceback per request only floods the log."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        return True
