"""The sampler on libvirt's test driver: one frame per sample holding the host's running VMs, in the same
number of RPCs whatever the VM count. (The test driver reports state only in getAllDomainStats: its VMs
have no counters, so their values are unknown; tests/test_lab_sampler.py checks real values.)"""
import libvirt
import pytest

from core.testing import fleet_node_xml, node_uri
from instances.models import Instance
from metrics import frames, sampler, store
from metrics.models import Frame, SamplerState
from metrics.tasks import sample_all_hosts
from virt import metrics as virt_metrics
from virt.tests.counting import Counting

pytestmark = pytest.mark.django_db


def test_it_writes_one_frame_with_the_active_vms(make_host):
    host = make_host("small")  # web1 running, cache1 paused, db1 shut off
    assert sampler.sample_host(host) == 2
    frame = Frame.objects.get(host=host, step=store.RAW)
    conn = libvirt.open(node_uri("small"))
    active = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
    expected = set(Instance.objects.filter(host=host, uuid__in=active).values_list("pk", flat=True))
    assert set(frames.decode(bytes(frame.vms))) == expected and len(expected) == 2
    assert SamplerState.objects.get(host=host).sample["vms"]


@pytest.mark.parametrize("vms", [10, 400])
def test_it_samples_in_a_constant_number_of_rpcs(node_dir, vms):
    path = node_dir / f"fleet{vms}.xml"
    path.write_text(fleet_node_xml(vms, running_every=1))
    conn = Counting(libvirt.open(f"test://{path}"))
    sample = virt_metrics.sample(conn)
    assert len(sample["vms"]) == vms
    assert sorted(conn.counter.elements()) == ["getAllDomainStats", "getCPUStats", "getMemoryStats"]


def test_it_writes_no_frame_for_an_unreachable_host(make_host):
    host = make_host("small")
    host.uri = "qemu+tcp://127.0.0.1:1/system"
    host.save()
    from hosts.connection import reconnect
    reconnect(host)
    assert sampler.sample_host(host) is None
    assert not Frame.objects.filter(host=host).exists()


def test_it_fans_out_one_task_per_host(make_host, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    hosts = [make_host("small"), make_host("empty")]
    sample_all_hosts()
    assert sorted(Frame.objects.values_list("host_id", flat=True)) == sorted(h.pk for h in hosts)
