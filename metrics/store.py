"""The metrics store: database rows, one per host per sample ("frames"), rolled up as samples arrive.

Why this shape (issue 12; 50,000 VMs on 200 hosts sampled every 10 s is 5,000 VM points a second):
- One row per VM per sample would be 5,000 inserts/s and ~100 bytes a point (row header, keys, index).
  A frame holds one host's sample: the host's values as columns and its VMs packed as 28-byte records
  (metrics/frames.py), so the write rate is hosts / interval (20 rows/s at 200 hosts) whatever the VM
  count, and a point costs 28 bytes. The bulk stats call already hands over one host at a time.
- Rollups are written at sample time: when a sample enters a new bucket, the closed bucket of the level
  below is averaged into one frame, and that level's retention is applied. No separate job to fall behind.
- Levels: raw for an hour (the hour graph, 360 points), 5 min for a day (288), 30 min for a week (336),
  3 h for a quarter (736). Every graph draws ~300 points; a VM costs ~1,050 points after a week (29 KB),
  so 20 hosts x 250 VMs stay under 200 MB (bench/metrics.py measures it).
- The database, not Redis or an embedded TSDB: it is already backed up, shared by every process and
  survives restarts; Redis here is a broker and cache that may be flushed. A TSDB (Prometheus itself)
  is what /metrics feeds for those who run one.
- Reading one VM's week reads its host's 336 frames and finds the VM in each by binary search.
  A migration moves the VM's row (same pk) to another host, whose frames then hold its points: the
  store notes each host whose frames hold a VM (Residence), and the VM's graph reads the frames of all
  of them, so the points from before the move stay on it.
"""
import time

from django.conf import settings
from django.db import transaction

from .frames import average, encode, find, mean
from .models import Frame, Residence, SamplerState

RAW = 0
RAW_KEEP = 3600
# (step, keep) in seconds, each level averaged from the one before it.
LEVELS = ((300, 86400), (1800, 7 * 86400), (10800, 92 * 86400))
# What each graph range reads: (step, span).
RANGES = {"hour": (RAW, 3600), "day": (300, 86400), "week": (1800, 7 * 86400), "quarter": (10800, 92 * 86400)}
HOST_FIELDS = ("cpu_percent", "memory_used_kib", "memory_total_kib")


def interval():
    return settings.CELERY_BEAT_SCHEDULE["sample-metrics"]["schedule"]


def previous_sample(host):
    """The host's previous counters, or None if there is none recent enough to make rates from."""
    state = SamplerState.objects.filter(host=host).first()
    return state.sample if state else None


def record(host, sample, host_values, vm_points):
    """Write one sample's frame, keep its counters for the next one, and roll up the buckets it closes."""
    previous = previous_sample(host)
    ts = int(sample["taken"])
    with transaction.atomic():
        Frame.objects.bulk_create([Frame(host=host, step=RAW, ts=ts, vms=encode(vm_points), **host_values)],
                                  ignore_conflicts=True)  # two samples in one second: keep the first
        SamplerState.objects.update_or_create(host=host, defaults={"sample": sample})
        note_residences(host, vm_points)
        if previous:
            roll_up(host, int(previous["taken"]), ts)


def note_residences(host, instance_ids):
    """Note that `host`'s frames hold these VMs, for those not noted yet (a VM new on the host or moved there):
    one read of the host's ids a sample, a write only when a VM arrives."""
    noted = set(Residence.objects.filter(host=host).values_list("instance_id", flat=True))
    arrived = set(instance_ids) - noted
    if arrived:
        Residence.objects.bulk_create([Residence(instance_id=pk, host=host) for pk in sorted(arrived)],
                                      ignore_conflicts=True)


def roll_up(host, before, now):
    """For each level whose bucket changed between `before` and `now`, average the closed bucket."""
    source = RAW
    for step, keep in LEVELS:
        if before // step == now // step:
            return  # coarser levels cannot have changed bucket either: each step divides the next
        start = before // step * step
        frames = list(Frame.objects.filter(host=host, step=source, ts__gte=start, ts__lt=start + step)
                      .values_list(*HOST_FIELDS, "vms"))
        if frames:
            values = {field: _mean_int(field, [f[i] for f in frames]) for i, field in enumerate(HOST_FIELDS)}
            Frame.objects.bulk_create([Frame(host=host, step=step, ts=start, vms=average([bytes(f[3]) for f in frames]),
                                             **values)], ignore_conflicts=True)
        source_keep = RAW_KEEP if source == RAW else dict(LEVELS)[source]
        Frame.objects.filter(host=host, step=source, ts__lt=now - source_keep).delete()
        Frame.objects.filter(host=host, step=step, ts__lt=now - keep).delete()
        source = step


def _mean_int(field, values):
    value = mean(values)
    return None if value is None else (value if field == "cpu_percent" else round(value))


def host_series(host_id, range_name, since=None, now=None):
    """[[ts, cpu %, memory used KiB, memory total KiB], ...] of one host over a graph range."""
    frames = _frames({host_id}, range_name, since, now)
    return [[ts, *values] for ts, *values in frames.values_list("ts", *HOST_FIELDS)]


def vm_series(host_id, instance_id, range_name, since=None, now=None):
    """[[ts, {field: value}], ...] of one VM over a graph range: the frames that hold it, of its host `host_id`
    and of the hosts it lived on before (a migration)."""
    hosts = {host_id, *Residence.objects.filter(instance_id=instance_id).values_list("host_id", flat=True)}
    series = []
    for ts, blob in _frames(hosts, range_name, since, now).values_list("ts", "vms"):
        values = find(bytes(blob), instance_id)
        if values is not None:
            series.append([ts, values])
    return series


def _frames(host_ids, range_name, since, now):
    step, span = RANGES[range_name]
    start = int((now or time.time()) - span)
    if since is not None:
        start = max(start, since + 1)
    return Frame.objects.filter(host_id__in=host_ids, step=step, ts__gte=start).order_by("ts")


def latest_frames(now=None):
    """The newest raw frame of each host sampled within the last three intervals (for /metrics)."""
    recent = int((now or time.time()) - 3 * interval())
    latest = {}
    for frame in Frame.objects.filter(step=RAW, ts__gte=recent).order_by("host_id", "-ts"):
        latest.setdefault(frame.host_id, frame)
    return latest
