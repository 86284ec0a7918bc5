"""libvirt's test driver through the API: off unless allowed, and no file read through a node file.

libvirt (as root, for the lab's test+tcp) reads the node file a URI names and every
file it references, and quotes a line it cannot parse: answers and logs must never
carry the content of another file.
"""
import logging
from pathlib import Path

import pytest

from core.testing import node_uri
from hosts.connection import connection_spec
from hosts.models import Host
from hosts.sync import sync_host
from virt.errors import NODE_FILE_INVALID

pytestmark = pytest.mark.django_db

LIST = "/api/hosts/"
SECRET = "SECRET-LINE-Qx7 root:$y$j9T$hash:19000"
DOMAIN = "<domain type='{type}'><name>d1</name><memory>262144</memory><os><type>hvm</type></os></domain>"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def post(api, uri, name="t"):
    return api.post(LIST, {"name": name, "uri": uri}, format="json")


def assert_nothing_leaked(response, logs):
    assert SECRET not in response.content.decode() and "SECRET-LINE" not in logs.text
    assert not Host.objects.exists()


@pytest.mark.parametrize("uri", ["test:///default", "test+tcp://127.0.0.1:16509/default", "test+unix:///default",
                                 node_uri("small")])
def test_it_refuses_the_test_driver_when_the_setting_is_off(api, settings, uri):
    settings.VIRTDECK_ALLOW_TEST_DRIVER = False
    response = post(api, uri)
    assert response.status_code == 400, response.content
    assert "VIRTDECK_ALLOW_TEST_DRIVER" in response.json()["uri"][0]
    assert not Host.objects.exists()


def test_it_refuses_to_switch_a_host_to_the_test_driver_when_the_setting_is_off(api, make_host, settings):
    host = make_host("small")
    settings.VIRTDECK_ALLOW_TEST_DRIVER = False
    response = api.patch(f"{LIST}{host.pk}/", {"uri": "test:///default"}, format="json")
    assert response.status_code == 400 and "VIRTDECK_ALLOW_TEST_DRIVER" in response.json()["uri"][0]
    assert Host.objects.get(pk=host.pk).uri == node_uri("small")


def test_it_refuses_a_symlink_in_a_node_directory_that_leads_elsewhere(api, node_dir, secret, logs):
    (node_dir / "shadow.xml").symlink_to(secret)
    response = post(api, f"test://{node_dir}/shadow.xml")
    assert response.status_code == 400, response.content
    assert "allowed directory" in response.json()["uri"][0]
    assert_nothing_leaked(response, logs)


@pytest.mark.parametrize("element", ["<domain file='{}'/>", "<network file='{}'/>", "<pool file='{}'/>"])
def test_it_refuses_a_node_file_that_loads_another_file(api, node_dir, secret, logs, element):
    (node_dir / "node.xml").write_text(f"<node>{element.format(secret)}</node>")
    response = post(api, f"test://{node_dir}/node.xml")
    assert response.status_code == 400, response.content
    assert "must not load other files" in response.json()["uri"][0]
    assert_nothing_leaked(response, logs)


def test_it_refuses_a_node_file_that_is_not_xml_without_quoting_it(api, node_dir, logs):
    (node_dir / "node.xml").write_text(f"{SECRET}\n")
    response = post(api, f"test://{node_dir}/node.xml")
    assert response.status_code == 400 and "not well-formed XML" in response.json()["uri"][0]
    assert_nothing_leaked(response, logs)


def test_it_says_only_that_libvirt_could_not_load_the_node_file(api, node_dir, logs):
    """Well-formed and self-contained, but libvirt refuses it, quoting a value: the answer says only that."""
    (node_dir / "node.xml").write_text("<node>" + DOMAIN.format(type=SECRET.split()[0]) + "</node>")
    response = post(api, f"test://{node_dir}/node.xml")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == NODE_FILE_INVALID
    assert_nothing_leaked(response, logs)


def test_it_hands_libvirt_a_private_copy_of_the_node_file(make_host, node_dir, settings):
    (node_dir / "node.xml").write_text("<node>" + DOMAIN.format(type="test") + "</node>")
    host = make_host(uri=f"test://{node_dir}/node.xml")
    spec_path = Path(connection_spec(host).uri.removeprefix("test://"))
    assert spec_path.parent == Path(settings.STATE_DIR) / "test-nodes"
    assert spec_path.read_bytes() == (node_dir / "node.xml").read_bytes()
    assert list(host.instances.values_list("name", flat=True)) == ["d1"]


def test_it_checks_the_node_file_again_at_every_connection(make_host, node_dir, secret, logs):
    """The file changed after the host was saved: the next sync refuses it, and libvirt never reads the secret."""
    node = node_dir / "node.xml"
    node.write_text("<node>" + DOMAIN.format(type="test") + "</node>")
    host = make_host(uri=f"test://{node}")
    node.write_text(f"<node><domain file='{secret}'/></node>")
    assert sync_host(host) is None
    host.refresh_from_db()
    assert host.state == "unreachable" and "must not load other files" in host.last_error
    assert "SECRET-LINE" not in host.last_error + logs.text


@pytest.mark.lab
def test_it_serves_a_node_file_over_test_tcp_from_the_checked_copy(api, lab, node_dir, secret, logs):
    """The lab libvirtd (root) reads the copy virtdeck wrote; a node file that loads another file never reaches it."""
    (node_dir / "node.xml").write_text("<node>" + DOMAIN.format(type="test") + "</node>")
    uri = f"test+tcp://127.0.0.1:{lab['port']}{node_dir}/node.xml"
    response = post(api, uri, name="tcp-node")
    assert response.status_code == 201, response.content
    host = Host.objects.get()
    assert list(host.instances.values_list("name", flat=True)) == ["d1"]
    assert "/test-nodes/" in connection_spec(host).uri

    (node_dir / "evil.xml").write_text(f"<node><domain file='{secret}'/></node>")
    refused = post(api, f"test+tcp://127.0.0.1:{lab['port']}{node_dir}/evil.xml", name="tcp-evil")
    assert refused.status_code == 400 and "must not load other files" in refused.json()["uri"][0]
    assert SECRET not in refused.content.decode() and "SECRET-LINE" not in logs.text


@pytest.mark.django_db
def test_it_points_test_unix_hosts_at_the_demo_daemons_socket(settings, api):
    settings.VIRTDECK_DEMO_LIBVIRT_SOCKET = "/run/virtdeck/demo-libvirt/libvirt-sock"
    host = Host.objects.create(name="demo", uri="test+unix:///default")
    assert connection_spec(host).uri == "test+unix:///default?socket=/run/virtdeck/demo-libvirt/libvirt-sock"
    settings.VIRTDECK_DEMO_LIBVIRT_SOCKET = ""
    assert connection_spec(host).uri == "test+unix:///default"
    # A user cannot choose the socket: it is no parameter a URI may carry.
    response = api.post("/api/hosts/", {"name": "sneaky", "uri": "test+unix:///default?socket=/tmp/other"},
                        format="json")
    assert response.status_code == 400 and "socket" in str(response.json())
