"""Host bridges with the guard, on a host whose shell lives in a network namespace the test makes.

sshd runs inside namespace vd-br-<tag> (reached from here over a veth pair, 10.219.R.2); virtdeck adds that
"host" over qemu+ssh (libvirt is the lab's, reached through the namespace's shared file system), so every
`ip` command virtdeck runs changes only the namespace. Its eth0 is the uplink virtdeck is reached by: the
very interface a careless bridge would cut off. Checked with `ip -n` run directly.
"""
import json
import random
import subprocess
import time
import uuid

import pytest

from core.testing import eventually
from hosts.tests.test_lab_transports import SSHD, keygen, stop

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


def sh(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def ns_addr(namespace, device):
    """(addresses, master) of `device` in the namespace, read with ip directly; None if it does not exist."""
    result = subprocess.run(["ip", "-n", namespace, "-j", "addr", "show", "dev", device], capture_output=True,
                            text=True)
    if result.returncode != 0:
        return None
    entry = json.loads(result.stdout)[0]
    return [f"{a['local']}/{a['prefixlen']}" for a in entry["addr_info"] if a.get("scope") == "global"], \
        entry.get("master", "")


def ns_default_dev(namespace):
    routes = json.loads(sh("ip", "-n", namespace, "-j", "route", "show", "default"))
    return routes[0]["dev"] if routes else ""


@pytest.fixture(scope="module")
def ns_sshd(tmp_path_factory):
    tag, r = uuid.uuid4().hex[:6], random.randint(1, 60)
    namespace, outside = f"vd-br-{tag}", f"vdb{tag}"
    inside_ip, outside_ip = f"10.219.{r}.2", f"10.219.{r}.1"
    tmp = tmp_path_factory.mktemp("ns-sshd")
    host_key, client_key = keygen(tmp / "host_key", "vd-ns"), keygen(tmp / "client_key", "vd-ns-client")
    (tmp / "authorized_keys").write_text((tmp / "client_key.pub").read_text())
    sh("ip", "netns", "add", namespace)
    proc = None
    try:
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        sh("ip", "addr", "add", f"{outside_ip}/30", "dev", outside)
        sh("ip", "link", "set", outside, "up")
        sh("ip", "-n", namespace, "link", "set", "lo", "up")
        sh("ip", "-n", namespace, "addr", "add", f"{inside_ip}/30", "dev", "eth0")
        sh("ip", "-n", namespace, "link", "set", "eth0", "up")
        sh("ip", "-n", namespace, "route", "add", "default", "via", outside_ip)
        config = tmp / "sshd_config"
        config.write_text(f"ListenAddress {inside_ip}\nPort 22\nHostKey {host_key}\nPidFile {tmp / 'sshd.pid'}\n"
                          f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
                          "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                          "AllowTcpForwarding no\nX11Forwarding no\n")
        proc = subprocess.Popen(["ip", "netns", "exec", namespace, SSHD, "-D", "-e", "-f", str(config)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        keytype, blob = (tmp / "host_key.pub").read_text().split()[:2]
        eventually(lambda: subprocess.run(["ip", "netns", "exec", namespace, "ss", "-ltn"], capture_output=True,
                                          text=True).stdout.count(f"{inside_ip}:22") == 1, timeout=10)
        yield {"namespace": namespace, "ip": inside_ip, "gateway": outside_ip,
               "private_key": client_key.read_text(), "known_hosts": f"{inside_ip} {keytype} {blob}"}
    finally:
        if proc is not None:
            stop(proc)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@pytest.fixture
def ns_host(ns_sshd, make_host):
    return make_host("ns", uri=f"qemu+ssh://root@{ns_sshd['ip']}/system",
                     ssh_private_key=ns_sshd["private_key"], ssh_known_hosts=ns_sshd["known_hosts"])


def test_it_enslaves_the_uplink_keeps_the_host_reachable_and_keeps_it_once_confirmed(api, ns_sshd, ns_host):
    namespace, address = ns_sshd["namespace"], f"{ns_sshd['ip']}/30"
    response = api.post(f"/api/hosts/{ns_host.pk}/bridges/", {"name": "br0", "uplink": "eth0", "seconds": 30},
                        format="json")
    assert response.status_code == 201 and response.json()["confirm_needed"] is True, response.content
    eventually(lambda: ns_addr(namespace, "br0") == ([address], ""), timeout=10, message="addresses moved")
    assert ns_addr(namespace, "eth0") == ([], "br0") and ns_default_dev(namespace) == "br0"
    listed = {b["name"]: b for b in api.get(f"/api/hosts/{ns_host.pk}/bridges/").json()}
    assert listed["br0"]["ports"] == ["eth0"] and listed["br0"]["pending"] is True

    # Confirmed over a new SSH session: the host is reachable through the bridge, so the change stays.
    assert api.post(f"/api/hosts/{ns_host.pk}/bridges/br0/confirm/").status_code == 200
    assert api.post(f"/api/hosts/{ns_host.pk}/bridges/br0/confirm/").status_code == 409  # nothing waits now

    # Deleting gives the addresses and the default route back to eth0; confirmed again.
    response = api.delete(f"/api/hosts/{ns_host.pk}/bridges/br0/?seconds=30")
    assert response.status_code == 200 and response.json()["confirm_needed"] is True
    eventually(lambda: ns_addr(namespace, "br0") is None, timeout=10, message="bridge deleted")
    assert ns_addr(namespace, "eth0") == ([address], "") and ns_default_dev(namespace) == "eth0"
    assert api.post(f"/api/hosts/{ns_host.pk}/bridges/br0/confirm/").status_code == 200


def test_it_undoes_an_unconfirmed_change_by_itself(api, ns_sshd, ns_host):
    namespace, address = ns_sshd["namespace"], f"{ns_sshd['ip']}/30"
    response = api.post(f"/api/hosts/{ns_host.pk}/bridges/", {"name": "br1", "uplink": "eth0", "seconds": 10},
                        format="json")
    assert response.status_code == 201
    eventually(lambda: ns_addr(namespace, "eth0") == ([], "br1"), timeout=10, message="enslaved")
    time.sleep(10)  # nobody confirms
    eventually(lambda: ns_addr(namespace, "br1") is None, timeout=10, message="bridge removed by the guard")
    assert ns_addr(namespace, "eth0") == ([address], "") and ns_default_dev(namespace) == "eth0"


def test_it_makes_a_bridge_without_uplink_at_once_and_refuses_bad_names(api, ns_sshd, ns_host):
    namespace = ns_sshd["namespace"]
    response = api.post(f"/api/hosts/{ns_host.pk}/bridges/", {"name": "br2"}, format="json")
    assert response.status_code == 201 and response.json()["confirm_needed"] is False
    assert ns_addr(namespace, "br2") == ([], "")
    for payload, words in (({"name": "br2"}, "already has"), ({"name": "br;reboot"}, "not a valid interface"),
                           ({"name": "br3", "uplink": "nope0"}, "no interface"),
                           ({"name": "br3", "uplink": "eth0", "seconds": 1}, "seconds")):
        response = api.post(f"/api/hosts/{ns_host.pk}/bridges/", payload, format="json")
        assert response.status_code == 400 and words in response.content.decode(), (payload, response.content)
    assert ns_addr(namespace, "br3") is None and ns_addr(namespace, "eth0")[1] == ""
    assert api.delete(f"/api/hosts/{ns_host.pk}/bridges/br2/").json()["confirm_needed"] is False
    assert ns_addr(namespace, "br2") is None


def test_it_manages_bridges_from_the_host_networking_page(admin_client, ns_sshd, ns_host):
    from django.contrib.messages import get_messages
    from django.urls import reverse

    namespace = ns_sshd["namespace"]
    page = reverse("networks:host_networking", args=[ns_host.pk])
    response = admin_client.post(reverse("networks:bridge_add", args=[ns_host.pk]), {"name": "br4", "seconds": 60})
    assert response["Location"] == page and ns_addr(namespace, "br4") == ([], "")
    assert 'data-bridge="br4"' in admin_client.get(page).content.decode()
    response = admin_client.post(reverse("networks:bridge_add", args=[ns_host.pk]), {"name": "br4", "seconds": 60})
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    admin_client.post(reverse("networks:bridge_delete", args=[ns_host.pk, "br4"]))
    assert ns_addr(namespace, "br4") is None


def test_it_shows_the_hosts_native_nftables_beside_iptables(api, ns_sshd, ns_host):
    namespace = ns_sshd["namespace"]
    subprocess.run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], check=True, text=True, input=(
        "table inet vdfw {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
        "  tcp dport 22 counter accept\n }\n}\n"))
    tables = {table["name"]: table for table in api.get(f"/api/hosts/{ns_host.pk}/firewall/").json()}
    chain, = tables["nft inet vdfw"]["chains"]
    rule, = chain["rules"]
    # virtdeck's own SSH session to the namespace went through it, so the counter moved; read directly too.
    direct = subprocess.run(["ip", "netns", "exec", namespace, "nft", "list", "chain", "inet", "vdfw", "input"],
                            check=True, capture_output=True, text=True).stdout
    assert rule["spec"] == "tcp dport 22 accept" and rule["packets"] > 0
    assert int(direct.split("counter packets ")[1].split()[0]) >= rule["packets"]
