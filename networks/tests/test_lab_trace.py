"""A trace on the lab: a real TCG guest's NIC ROM sends DHCP on a NAT network while a namespace peer on the same
bridge pings a far namespace; tcpdump on every hop shows the guest's packets on its tap and the bridge, and the
far side sees the peer's source address rewritten to the host's (MASQUERADE).

Everything lives in what the test makes: a NAT network on 10.214.R.0/24, two network namespaces joined by veth
pairs (peer: 10.214.R.50 on the bridge; far: 10.217.R.2, reached through 10.217.R.1 on this machine). No
packet leaves them. Namespaces, the network and the guest are removed at the end.
"""
import json
import random
import subprocess
import sys
import threading
import uuid

import pytest
from lxml import etree

from core.models import Job
from core.testing import eventually, ip_forward_kept
from instances import inventory
from instances.models import Instance
from lab import guest
from networks import services, tracing
from networks.models import Network
from networks.tasks import trace_nic
from virt.networks import delete_network_if_present

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


RECEIVE = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
print("ready", flush=True)
s.settimeout(5)
for _ in range(3):
    print(s.recvfrom(64)[1][0], flush=True)
"""
SEND = """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(b"virtdeck", (%r, 9999))
    time.sleep(0.2)
"""


def sh(*args):
    subprocess.run(list(args), check=True, capture_output=True, text=True)


@pytest.fixture
def setup(lab, make_host, lab_guests, tmp_path):
    host = make_host("local", uri="qemu:///system")  # this machine: virtdeck runs tcpdump here
    tag, r = uuid.uuid4().hex[:6], random.randint(1, 254)
    subnet, far = f"10.214.{r}", f"10.217.{r}"
    bridge, peer_ns, far_ns = f"vdt{tag}", f"vd-peer-{tag}", f"vd-far-{tag}"
    with ip_forward_kept():
        network = services.create_network(host, name=f"vd-test-{tag}", mode="nat", bridge=bridge,
                                          ipv4_address=f"{subnet}.1", ipv4_prefix=24, dhcp_start=f"{subnet}.100",
                                          dhcp_end=f"{subnet}.120")
        try:
            # The peer: a "guest" made of a namespace, its veth enslaved to the NAT bridge.
            sh("ip", "netns", "add", peer_ns)
            sh("ip", "link", "add", f"vdp{tag}", "type", "veth", "peer", "name", "eth0", "netns", peer_ns)
            sh("ip", "link", "set", f"vdp{tag}", "master", bridge, "up")
            sh("ip", "-n", peer_ns, "addr", "add", f"{subnet}.50/24", "dev", "eth0")
            sh("ip", "-n", peer_ns, "link", "set", "eth0", "up")
            sh("ip", "-n", peer_ns, "route", "add", "default", "via", f"{subnet}.1")
            # libvirt's bridge runs STP: a new port forwards only once it has passed listening and learning.
            eventually(lambda: _port_state(f"vdp{tag}") == "forwarding", timeout=30, message="the peer's port forwards")
            # The far side: reached through this machine's routing, like a LAN behind the uplink.
            sh("ip", "netns", "add", far_ns)
            sh("ip", "link", "add", f"vdf{tag}", "type", "veth", "peer", "name", "eth0", "netns", far_ns)
            sh("ip", "addr", "add", f"{far}.1/24", "dev", f"vdf{tag}")
            sh("ip", "link", "set", f"vdf{tag}", "up")
            sh("ip", "-n", far_ns, "addr", "add", f"{far}.2/24", "dev", "eth0")
            sh("ip", "-n", far_ns, "link", "set", "eth0", "up")
            # A TCG guest whose NIC ROM is on (no <rom bar='off'/>), booting from the network after the empty disk.
            name = f"vd-trace-{tag}"
            root = etree.fromstring(guest.domain_xml(name, guest.make_disk(tmp_path, name), network=network.name))
            for rom in root.iter("rom"):
                rom.getparent().remove(rom)
            etree.SubElement(root.find("os"), "boot", dev="network")
            dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
            lab_guests.made.append(dom)
            dom.create()
            instance = inventory.refresh_one(host, dom.UUIDString())
            yield {"host": host, "instance": instance, "dom": dom, "peer_ns": peer_ns, "far_ns": far_ns,
                   "subnet": subnet, "far": far, "bridge": bridge, "uplink": f"vdf{tag}", "mac": etree.fromstring(dom.XMLDesc(0)).find(
                       "devices/interface/mac").get("address")}
        finally:
            for namespace in (peer_ns, far_ns):
                subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
            delete_network_if_present(lab_guests.conn, network.name)


def _port_state(port):
    shown = subprocess.run(["bridge", "-j", "link", "show", "dev", port], capture_output=True, text=True)
    return json.loads(shown.stdout or "[{}]")[0].get("state") if shown.returncode == 0 else None


def _capturing(job):
    """The job logs "capturing on ..." once every hop's tcpdump has opened its interface."""
    return any(entry["message"].startswith("capturing on") for entry in Job.objects.get(pk=job.pk).log)


def _hops(job_id):
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", (job.error, job.log)
    return job, {hop["kind"] if hop["kind"] != "firewall" else hop["name"]: hop for hop in job.result["hops"]}


def print_hops(job):
    print(f"\ntrace job {job.pk}: filter {job.result['filter']}, {job.result['seconds']} s")
    for hop in job.result["hops"]:
        capture = hop.get("capture")
        flows = [f"arp x{f['packets']}" if f["proto"] == "arp"
                 else f"{f['src']} > {f['dst']} {f['proto']} x{f['packets']}" for f in (capture or {}).get("flows", [])]
        seen = "; ".join(flows) if capture else (f"{len(hop['rules'])} rules" if hop["kind"] == "firewall" else "")
        print(f"{hop['kind']:9} {hop['name']:18} {capture['packets'] if capture else '-':>3} packets  {seen}")
    for rule in (hop for hop in job.result["hops"] if hop["name"] == "nat POSTROUTING"):
        print("\n".join(f"  {r['chain']}: {r['spec']}" for r in rule["rules"]))


def test_it_traces_a_guest_and_a_nat_rewrite_on_every_hop(setup, admin_user):
    instance = Instance.objects.get(pk=setup["instance"].pk)
    # Two traces at once: everything the guest sends, and what goes to the far side (whose route is the uplink).
    everything = services.start_trace(instance, setup["mac"], admin_user, seconds=10)
    to_far = services.start_trace(instance, setup["mac"], admin_user, seconds=10, address=f"{setup['far']}.2")
    runners = [threading.Thread(target=trace_nic.run, args=[job.pk], kwargs=job.params) for job in (everything, to_far)]
    for runner in runners:
        runner.start()
    for job in (everything, to_far):
        eventually(lambda job=job: _capturing(job), timeout=30, message="tcpdump attached to every hop")
    setup["dom"].reset()  # the guest boots again: SeaBIOS hands over to the NIC's iPXE, which asks for DHCP
    # UDP from the peer to the far side; the far side says which source address it saw.
    receiver = subprocess.Popen(["ip", "netns", "exec", setup["far_ns"], sys.executable, "-c", RECEIVE],
                                stdout=subprocess.PIPE, text=True)
    assert receiver.stdout.readline().strip() == "ready"  # bound before anything is sent
    subprocess.run(["ip", "netns", "exec", setup["peer_ns"], sys.executable, "-c", SEND % f"{setup['far']}.2"],
                   check=True)
    seen_by_far_side = receiver.communicate(timeout=10)[0].split()
    for runner in runners:
        runner.join(60)
    assert seen_by_far_side == [f"{setup['far']}.1"] * 3  # MASQUERADE, seen from outside

    # The guest's iPXE took an address from the network's dnsmasq: the live leases list it.
    network = Network.objects.get(host=setup["host"], bridge=setup["bridge"])
    leases = eventually(lambda: [lease for lease in services.leases(network) if lease.mac == setup["mac"]],
                        timeout=10, message="the guest's DHCP lease")
    assert leases[0].ip.startswith(f"{setup['subnet']}.")

    job, hops = _hops(everything.pk)
    print_hops(job)
    assert hops["tap"]["capture"]["packets"] > 0, hops["tap"]  # the guest's own frames: DHCP from its boot ROM
    assert ("0.0.0.0", "255.255.255.255") in {(f["src"], f["dst"]) for f in hops["tap"]["capture"]["flows"]}
    # The bridge device sees what reaches the host's own port (broadcasts, dnsmasq's answers), not every frame
    # switched between ports: the guest's DHCP broadcast is there too.
    assert ("0.0.0.0", "255.255.255.255") in {(f["src"], f["dst"]) for f in hops["bridge"]["capture"]["flows"]}

    job, hops = _hops(to_far.pk)
    assert hops["bridge"]["interface"] == setup["bridge"] and hops["uplink"]["interface"] == setup["uplink"]
    assert [r["spec"] for r in hops["nat POSTROUTING"]["rules"]][-1] == (
        f"-s {setup['subnet']}.0/24 ! -d {setup['subnet']}.0/24 -j MASQUERADE")
    bridge_flows = {(f["src"], f["dst"]) for f in hops["bridge"]["capture"]["flows"]}
    print_hops(job)  # with -s: the trace as docs/concepts.md shows it
    assert (f"{setup['subnet']}.50", f"{setup['far']}.2") in bridge_flows  # the peer's own address here
    uplink_flows = {(f["src"], f["dst"]) for f in hops["uplink"]["capture"]["flows"] if f["proto"] != "arp"}
    assert uplink_flows == {(f"{setup['far']}.1", f"{setup['far']}.2")}  # rewritten to the host's address
    for index, hop in enumerate(job.result["hops"]):
        if "capture" in hop:
            pcap = tracing.trace_dir(job.pk) / f"{index}.pcap"
            check = subprocess.run(["tcpdump", "-r", str(pcap), "-n", "-q"], capture_output=True, text=True)
            assert check.returncode == 0 and check.stdout.count("\n") == hop["capture"]["packets"], check.stderr
