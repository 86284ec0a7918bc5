"""The sampler on the real lab (libvirtd + QEMU under TCG): a running guest's counters and rates,
cross-checked against `virsh domstats` and `virsh nodememstats` read around the samples."""
import subprocess
import time

import pytest

from instances.models import Instance
from metrics import frames, sampler, store
from metrics.models import Frame, SamplerState

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


def virsh(lab, *args):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=True).stdout


def domstats(lab, name):
    """virsh domstats as {key: int}, the counters summed over disks and NICs as virtdeck sums them."""
    stats = {}
    for line in virsh(lab, "domstats", name).splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and value.lstrip("-").isdigit():
            stats[key] = int(value)
    total = {"cpu": stats["cpu.time"], "rss": stats.get("balloon.rss")}
    for counter, (group, suffix) in {"rd": ("block", "rd.bytes"), "wr": ("block", "wr.bytes"),
                                     "rx": ("net", "rx.bytes"), "tx": ("net", "tx.bytes")}.items():
        total[counter] = sum(stats.get(f"{group}.{i}.{suffix}", 0) for i in range(stats.get(f"{group}.count", 0)))
    return total


def test_it_samples_a_running_guest_as_virsh_sees_it(lab, lab_guests, make_host):
    dom = lab_guests.define()
    host = make_host("lab", uri=lab["uri"])
    instance = Instance.objects.get(host=host, uuid=dom.UUIDString())

    before = domstats(lab, dom.name())
    assert sampler.sample_host(host) >= 1
    first = next(vm for vm in SamplerState.objects.get(host=host).sample["vms"] if vm["uuid"] == dom.UUIDString())
    time.sleep(2)  # a second sample later: the rate's interval
    assert sampler.sample_host(host) >= 1
    after = domstats(lab, dom.name())
    second = next(vm for vm in SamplerState.objects.get(host=host).sample["vms"] if vm["uuid"] == dom.UUIDString())

    # Counters lie between virsh's readings taken before and after the samples.
    assert before["cpu"] <= first["cpu_time_ns"] <= second["cpu_time_ns"] <= after["cpu"]
    for key, counter in (("rd", "disk_read_bytes"), ("wr", "disk_write_bytes"), ("rx", "net_rx_bytes"),
                         ("tx", "net_tx_bytes")):
        assert before[key] <= first[counter] <= second[counter] <= after[key]
    assert first["vcpus"] == 1
    assert abs(second["memory_kib"] - after["rss"]) <= 0.2 * after["rss"]

    frame = Frame.objects.filter(host=host, step=store.RAW).order_by("-ts").first()
    point = frames.find(bytes(frame.vms), instance.pk)
    assert 0 < point["cpu_percent"] <= 100  # a TCG guest spinning in SeaBIOS uses CPU
    assert point["disk_read_bps"] >= 0 and point["net_rx_bps"] >= 0
    total = int(virsh(lab, "nodememstats").split("total  :")[1].split()[0])
    assert frame.memory_total_kib == total and 0 < frame.memory_used_kib < total
    assert frame.cpu_percent is not None and 0 <= frame.cpu_percent <= 100
