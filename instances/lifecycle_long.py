"""Long libvirt work on one VM (managed save, restore, snapshots) from a job: `long_call`."""
from core.jobs import JobCancelled
from hosts.connection import call, run_long
from hosts.models import libvirt_host_uri
from virt.domain import Domain
from virt.errors import VirtError

PROGRESS_FROM, PROGRESS_TO = 5, 95  # the libvirt job's share of the bar; the row's re-read ends it


def long_call(host, job, uuid, fn):
    """fn(Domain) on the VM `uuid`, for a job: on a connection of its own (Pool.run_long), where taking long
    never makes the host look dead and the host's shared connection keeps serving other calls meanwhile.
    Progress comes from the domain's libvirt job (jobStats: bytes of memory or disk done), polled every
    0.5 s; a cancel of the job aborts that libvirt job. Returns what fn returns.

    A test-driver host (test:///, test+tcp://) keeps its VMs per connection: a connection of its own would
    change a private copy nobody else sees. Its operations are instant, so they go on the shared connection.
    """
    if libvirt_host_uri(host.uri).is_test:
        return call(host, lambda conn: fn(Domain.lookup(conn, uuid)))

    def poll():
        try:
            info = call(host, lambda conn: Domain.lookup(conn, uuid).job_info())
        except VirtError:
            # Progress is a nicety: libvirt 9.0 has no statistics for some jobs (a live snapshot merge: "invalid
            # job statistics type"), and a host that stopped answering fails fn itself.
            return
        if info["active"] and info["data_total"]:
            share = (info["data_processed"] or 0) / info["data_total"]
            try:
                job.progress(PROGRESS_FROM + (PROGRESS_TO - PROGRESS_FROM) * min(1.0, share))
            except JobCancelled:
                pass  # on_cancel aborts libvirt's job; fn then ends with libvirt's "operation aborted"

    def abort():
        call(host, lambda conn: Domain.lookup(conn, uuid).abort_job())

    return run_long(host, lambda conn: fn(Domain.lookup(conn, uuid)), poll=poll,
                    cancelled=job.cancelled.is_set, on_cancel=abort)
