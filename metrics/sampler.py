"""Sample one host: its counters in 3 RPCs (virt.metrics.sample), rates against the previous sample,
one frame written (metrics/store.py). An unreachable host gets no frame: its graph shows a gap, and the
inventory sync, not the sampler, marks it unreachable."""
from hosts.connection import call
from instances.models import Instance
from virt import metrics as virt_metrics
from virt.errors import VirtError

from . import rates, store


def sample_host(host):
    """Record one sample of `host`. Returns the number of VMs sampled, or None if the host did not answer."""
    try:
        current = call(host, virt_metrics.sample)
    except VirtError:
        return None
    previous = store.previous_sample(host)
    # Rates over a long gap (the host was down, the worker stopped) would be averages nobody asked for.
    recent = previous if previous and current["taken"] - previous["taken"] <= 3 * store.interval() else None
    instance_ids = {str(uuid): pk for uuid, pk in Instance.objects.filter(host=host).values_list("uuid", "pk")}
    points = rates.points(recent, current, instance_ids)
    store.record(host, current, rates.host_point(recent, current), points)
    return len(points)
