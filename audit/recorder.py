"""Writing audit entries: from the middleware (pages and API) and from finished jobs."""
import json
import logging
import re

from django.db import transaction
from django.http import QueryDict

from .models import AuditEntry
from .redact import redact

log = logging.getLogger(__name__)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
JOB_URL = re.compile(r"/jobs/(\d+)/")
MAX_PARSED_BODY = 256 * 1024  # larger bodies (XML uploads, big definitions) are logged by size


def _create(what, **fields):
    """Write one entry in a savepoint: a failed entry must neither break the caller's transaction nor turn a
    request that already happened into a 500."""
    try:
        with transaction.atomic():
            AuditEntry.objects.create(**fields)
    except Exception:  # noqa: BLE001 - logged; the action itself is done
        log.exception("could not write the audit entry for %s", what)


def request_params(request, body):
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("application/json"):
        if len(body or b"") > MAX_PARSED_BODY:
            return {"bytes": len(body)}
        try:
            data = json.loads(body or b"null")
        except (ValueError, RecursionError):
            return {"body": "(not JSON, or nested too deeply)"}
        return redact(data if isinstance(data, dict) else {"body": data})
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        data = request.POST if isinstance(request.POST, QueryDict) else {}
        return redact({key: values if len(values) > 1 else values[0] for key, values in data.lists()})
    return {"bytes": len(body or b"")} if body else {}


def _target(match):
    if match is None or "pk" not in match.kwargs:
        return ""
    return f"{match.namespace or match.app_name}:{match.kwargs['pk']}"


def _job_id(request, response):
    if getattr(request, "job_id", None):  # set by core.generic's action views when the action started a job
        return request.job_id
    data = getattr(response, "data", None)
    if response.status_code == 202 and isinstance(data, dict) and isinstance(data.get("id"), int):
        return data["id"]
    found = JOB_URL.search(response.get("Location", "") or "")
    return int(found.group(1)) if found else None


def _result(status):
    if status < 400:
        return AuditEntry.Result.OK
    return AuditEntry.Result.REFUSED if status < 500 else AuditEntry.Result.FAILED


def record_request(request, response, body, fallback_user=None):
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if (user is None or not user.is_authenticated) and fallback_user is not None:
        user = fallback_user
    authenticated = bool(user is not None and user.is_authenticated)
    _create(
        f"{request.method} {request.path}",
        user=user if authenticated else None, username=user.get_username() if authenticated else "",
        address=request.META.get("REMOTE_ADDR", "")[:64],
        source=AuditEntry.Source.API if request.path.startswith("/api/") else AuditEntry.Source.PAGE,
        method=request.method, action=(match.view_name if match else "")[:120], path=request.path[:500],
        target=_target(match)[:120], params=request_params(request, body), status=response.status_code,
        result=_result(response.status_code), job_id=_job_id(request, response),
    )


def record_job(job):
    result = {"succeeded": AuditEntry.Result.OK, "failed": AuditEntry.Result.FAILED}.get(
        job.status, AuditEntry.Result.REFUSED)  # cancelled
    _create(
        f"job {job.pk}",
        user=job.user, username=job.user.get_username() if job.user else "", source=AuditEntry.Source.JOB,
        action=f"job:{job.kind}"[:120], target=f"{job.target_kind}:{job.target_id}"[:120],
        params=redact(job.params or {}), result=result, job_id=job.pk, detail=(job.error or job.status)[:2000],
    )
