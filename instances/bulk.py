"""One action on many VMs (the list's checkboxes, POST /api/instances/bulk/): a result per VM.

One VM failing does not stop the others. VMs on different hosts are handled in parallel, one thread per
host; a host's VMs go one after the other in one call on its pooled connection (virt.batch.each: one listing
of the host, then the action per VM: one RPC each for start and force off), then are re-read together
(3 RPCs per host, virt.inventory.collect_some). The threads
only talk to libvirt; the rows are written afterwards, in the caller's thread, in one transaction, so the
database sees one writer.
"""
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.utils.translation import gettext

from core.api.exceptions import STATUS
from core.permissions import restrict
from hosts.connection import call
from hosts.models import Host
from virt.batch import each
from virt.inventory import collect_some
from virt.errors import VirtError

from . import lifecycle
from .actions import BULK
from .inventory import apply_rows
from .models import Instance

MAX_IDS = 1000
# What a re-read takes from the row where the host's stats lack it (libvirt's test driver: vCPUs, memory).
KNOWN_FIELDS = ("vcpus", "memory_kib", "max_memory_kib", "cpu_time_ns")
# Threads at most, whatever the number of hosts: each one mostly waits on its host.
MAX_THREADS = 16


def _status(error):
    return next((code for cls, code in STATUS.items() if isinstance(error, cls)), 502)


def _failure(vm_id, name, status, message):
    return {"id": vm_id, "name": name, "ok": False, "status": status, "detail": message}


def _run_host(action, vms):
    """Act on one host's VMs in turn in one pool call (virt.batch.each: one listing, then the action per VM),
    then re-read those done in one go (virt.inventory.collect_some): [(vm, record, error)], never raising.
    record None: the domain is gone; False: not re-read (the host stopped answering), its row waits for the
    next event or sync."""
    fn, timeout = lifecycle.LIVE[action.name]
    host = vms[0].host
    try:
        # The call's bound grows with its VMs: each action may take its own time (a stuck QEMU's force off).
        outcomes = call(host, lambda conn: each(conn, [str(vm.uuid) for vm in vms], fn),
                        timeout=(timeout or settings.VIRT_CALL_TIMEOUT) * len(vms))
    except VirtError as exc:  # the host: every VM of it gets its reason
        return [(vm, None, exc) for vm in vms]
    done, acted, doms = [], [], []
    for vm, (dom, _result, error) in zip(vms, outcomes):
        if error is None:
            lifecycle.after_act(vm, action.name)
            acted.append(vm)
            doms.append(dom)
        else:
            done.append((vm, None, error))
    if acted:
        known = {str(vm.uuid): {f: getattr(vm, f) for f in KNOWN_FIELDS} for vm in acted}
        # `doms` belong to the pooled connection of the first call: unless the host failed in between (the pool
        # then replaced it), which this call then reports as any call to a failed host does.
        try:
            records = {r["uuid"].lower(): r for r in call(host, lambda conn: collect_some(conn, doms, known))}
        except VirtError:
            records = {str(vm.uuid): False for vm in acted}
        done.extend((vm, records.get(str(vm.uuid)), None) for vm in acted)
    return done


def _queue(action, vm, user):
    """A job action (save, restore: instances/lifecycle_jobs.py) queued for one VM: its result names the job."""
    try:
        job = action.perform(vm, user)
    except VirtError as exc:
        return _failure(vm.pk, vm.name, _status(exc), exc.message)
    return {"id": vm.pk, "name": vm.name, "ok": True, "state": vm.state, "job": job.pk}


def run(action_name, ids, user):
    """Do action `action_name` (a key of actions.BULK) on the VMs with these ids, as `user`.

    Returns one result per id, in the order given: {"id", "name", "ok", "state"} (plus "job" for an action that
    runs as a job: save, restore; "state" is then the state before it) or
    {"id", "name", "ok": False, "status" (the HTTP status it would have alone), "detail"}.
    """
    action = BULK[action_name]
    vms = restrict(Instance.objects.all(), user, action_name).in_bulk(ids)
    # Each host once, not joined to every row: a host row carries JSON facts that would be decoded per VM.
    hosts = Host.objects.in_bulk({vm.host_id for vm in vms.values()})
    for vm in vms.values():
        vm.host = hosts[vm.host_id]
    results, by_host = {}, {}
    for vm_id in ids:
        vm = vms.get(vm_id)
        if vm is None:
            results[vm_id] = _failure(vm_id, None, 404, gettext("No such instance."))
        elif not action.is_allowed(vm):
            results[vm_id] = _failure(vm_id, vm.name, 409, action.refusal(vm))
        elif action.answers_job:
            results[vm_id] = _queue(action, vm, user)
        else:
            by_host.setdefault(vm.host_id, []).append(vm)
    if by_host:
        with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(by_host))) as threads:
            outcomes = list(threads.map(lambda host_vms: _run_host(action, host_vms), by_host.values()))
        done = [item for outcome in outcomes for item in outcome]
        fresh = apply_rows([(vm, record) for vm, record, error in done if error is None and record is not False])
        for vm, record, error in done:
            if error is not None:
                results[vm.pk] = _failure(vm.pk, vm.name, _status(error), error.message)
                continue
            row = fresh.get(vm.pk, vm)  # None: the domain is gone (a transient VM that stopped)
            results[vm.pk] = {"id": vm.pk, "name": vm.name, "ok": True, "state": row.state if row else None}
    return [results[vm_id] for vm_id in ids]
