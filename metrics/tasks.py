from celery import shared_task

from hosts.models import Host

from . import sampler, store


@shared_task(name="metrics.tasks.sample_host", ignore_result=True)
def sample_host(host_id):
    host = Host.objects.filter(pk=host_id).first()
    if host is not None:
        sampler.sample_host(host)


@shared_task(name="metrics.tasks.sample_all_hosts", ignore_result=True)
def sample_all_hosts():
    """One task per host, as the inventory sync: a slow host delays nobody. A sample not started within
    one interval is dropped; the next one supersedes it (rates then span two intervals, still correct)."""
    for host_id in Host.objects.values_list("pk", flat=True):
        sample_host.apply_async(args=[host_id], expires=store.interval())
