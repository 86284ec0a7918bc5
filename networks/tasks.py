import time

from django.urls import reverse
from django.utils.translation import gettext as _

from core.jobs import JobCancelled, JobTask
from instances.models import Instance
from virtdeck.celery import app

from . import tracing


ATTACH_TIMEOUT = 15  # seconds for tcpdump to open its interface (over SSH, the connection comes first)


class TraceNIC(JobTask):
    """tcpdump on every hop of a VM NIC's path at once for N seconds; per hop: packets, flows, a pcap."""

    name = "networks.tasks.trace_nic"
    kind = "trace"

    def execute(self, job, instance_id, mac, seconds, protocol="any", port=None, address=""):
        trace_filter = tracing.TraceFilter(protocol, port, address)
        instance = Instance.objects.select_related("host").get(pk=instance_id)
        hops, _note = tracing.nic_path(instance, mac, destination=address)
        directory = tracing.trace_dir(job.id)
        directory.mkdir(parents=True, exist_ok=True)
        captures = {}
        for index, hop in enumerate(hops):
            if hop.interface:
                captures[index] = tracing.Capture(instance.host, hop.interface, seconds, trace_filter,
                                                  directory / f"{index}.pcap")
        job.on_cancel(lambda: [capture.stop() for capture in captures.values()])
        for capture in captures.values():  # a hop whose tcpdump has not opened its interface yet misses packets
            capture.listening.wait(ATTACH_TIMEOUT)
        job.log(_("capturing on %(interfaces)s for %(seconds)s s")
                % {"interfaces": ", ".join(hops[i].interface for i in captures), "seconds": seconds})
        started = time.monotonic()
        while not all(capture.join(0.5) for capture in captures.values()):
            job.progress(min(95, 100 * (time.monotonic() - started) / seconds))
            if time.monotonic() - started > seconds + 15:
                for capture in captures.values():
                    capture.stop()
        if job.cancelled.is_set():
            raise JobCancelled()
        result = []
        for index, hop in enumerate(hops):
            entry = hop.as_dict()
            if index in captures:
                capture = captures[index]
                entry["capture"] = {**tracing.summarize(capture.path), "error": capture.error,
                                    "pcap": reverse("networks:trace_pcap", args=[job.id, index])}
            result.append(entry)
        return {"hops": result, "seconds": seconds, "filter": " ".join(trace_filter.words()) or "any"}


trace_nic = app.register_task(TraceNIC())
