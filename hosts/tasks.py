from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _

from core.jobs import JobTask
from virt.errors import HostUnreachable
from virtdeck.celery import app

from . import services, sync
from .connection import reconnect
from .models import Host


@shared_task(name="hosts.tasks.sync_host", ignore_result=True)
def sync_host(host_id):
    host = Host.objects.filter(pk=host_id).first()
    if host is not None:
        sync.sync_host(host)


@shared_task(name="hosts.tasks.sync_all_hosts", ignore_result=True)
def sync_all_hosts():
    """Fan out: one task per host, so a slow host delays nobody else.

    A sync not started within one interval is dropped: the next one supersedes it,
    so a busy worker never works through a backlog of stale syncs.
    """
    interval = settings.CELERY_BEAT_SCHEDULE["sync-inventory"]["schedule"]
    for host_id in Host.objects.values_list("pk", flat=True):
        sync_host.apply_async(args=[host_id], expires=interval)


class RefreshHost(JobTask):
    """Re-read a host's facts and inventory now (the 'Refresh' button)."""

    name = "hosts.tasks.refresh_host"
    kind = "refresh_host"

    def execute(self, job, host_id):
        host = Host.objects.get(pk=host_id)
        reconnect(host)
        job.progress(10, _("connecting to %(uri)s") % {"uri": host.uri})
        facts = services.refresh_facts(host)
        job.progress(50, _("%(hostname)s: libvirt %(version)s, %(driver)s") % {
            "hostname": facts["hostname"], "version": facts["libvirt_version"], "driver": facts["driver"]})
        count = sync.sync_host(host)
        if count is None:
            host.refresh_from_db()
            raise HostUnreachable(host.last_error)
        job.progress(100, _("%(count)s instances synced") % {"count": count})
        return {"instances": count}


refresh_host = app.register_task(RefreshHost())
