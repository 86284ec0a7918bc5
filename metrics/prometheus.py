"""The fleet in Prometheus' text format, from the database only (the newest frame of each host and the
inventory): a scrape never calls libvirt, so a hung host cannot hold it."""
from django.db.models import Count
from prometheus_client.core import CollectorRegistry, GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from hosts.models import Host
from instances.models import Instance

from . import store
from .frames import decode

KIB = 1024
# frames.VM_FIELDS -> (metric name, help, factor to base units)
VM_METRICS = {
    "cpu_percent": ("virtdeck_vm_cpu_percent", "CPU use of the VM's vCPUs, percent", 1),
    "memory_kib": ("virtdeck_vm_memory_bytes", "Host memory held by the VM's QEMU process (RSS)", KIB),
    "disk_read_bps": ("virtdeck_vm_disk_read_bytes_per_second", "Disk read rate", 1),
    "disk_write_bps": ("virtdeck_vm_disk_write_bytes_per_second", "Disk write rate", 1),
    "net_rx_bps": ("virtdeck_vm_network_receive_bytes_per_second", "Network receive rate", 1),
    "net_tx_bps": ("virtdeck_vm_network_transmit_bytes_per_second", "Network transmit rate", 1),
}


class FleetCollector:
    def collect(self):
        hosts = dict(Host.objects.values_list("pk", "name"))
        up = GaugeMetricFamily("virtdeck_host_up", "1 if the host answered its last sync", labels=["host"])
        for pk, name, state in Host.objects.values_list("pk", "name", "state"):
            up.add_metric([name], 1 if state == Host.State.UP else 0)
        yield up
        counts = GaugeMetricFamily("virtdeck_instances", "VMs by host and state", labels=["host", "state"])
        for host_id, state, number in _instance_counts():
            counts.add_metric([hosts.get(host_id, ""), state], number)
        yield counts
        yield from self._samples(hosts)

    def _samples(self, hosts):
        frames = store.latest_frames()
        host_families = {
            "cpu_percent": GaugeMetricFamily("virtdeck_host_cpu_percent", "Host CPU use, percent", labels=["host"]),
            "memory_used_kib": GaugeMetricFamily("virtdeck_host_memory_used_bytes", "Host memory in use",
                                                 labels=["host"]),
            "memory_total_kib": GaugeMetricFamily("virtdeck_host_memory_total_bytes", "Host memory", labels=["host"]),
        }
        vm_families = {field: GaugeMetricFamily(name, text, labels=["host", "instance", "uuid"])
                       for field, (name, text, _) in VM_METRICS.items()}
        points = {host_id: decode(bytes(frame.vms)) for host_id, frame in frames.items()}
        names = {pk: (name, str(uuid)) for pk, name, uuid in Instance.objects.filter(
            pk__in=[i for vms in points.values() for i in vms]).values_list("pk", "name", "uuid")}
        for host_id, frame in frames.items():
            host = hosts.get(host_id, "")
            for field, family in host_families.items():
                value = getattr(frame, field)
                if value is not None:
                    family.add_metric([host], value * (1 if field == "cpu_percent" else KIB), timestamp=frame.ts)
            for instance_id, values in points[host_id].items():
                if instance_id not in names:
                    continue  # deleted since the sample
                for field, family in vm_families.items():
                    if values[field] is not None:
                        family.add_metric([host, *names[instance_id]], values[field] * VM_METRICS[field][2],
                                          timestamp=frame.ts)
        yield from host_families.values()
        yield from vm_families.values()


def _instance_counts():
    return Instance.objects.values_list("host_id", "state").annotate(n=Count("id")).order_by()


def exposition():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return generate_latest(registry)
