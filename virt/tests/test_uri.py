import pytest

from virt.uri import URIError, parse


@pytest.mark.parametrize(
    "uri",
    [
        "qemu:///system",
        "qemu+tcp://kvm1.example.org/system",
        "qemu+tcp://127.0.0.1:16509/system",
        "qemu+ssh://root@kvm1:2222/system",
        "qemu+libssh://root@kvm1/system?known_hosts_verify=normal",
        "qemu+tls://kvm1.example.org/system",
        "test:///default",
        "test+tcp://127.0.0.1/default",
        "qemu+ssh://root@[2001:db8::1]/system",
    ],
)
def test_it_accepts_and_round_trips_supported_uris(uri):
    assert parse(uri, allow_test_driver=True).build() == uri


@pytest.mark.parametrize("template", ["test://{}", "test+unix://{}", "test+tcp://127.0.0.1:16509{}",
                                      "test+tcp://localhost{}"])
def test_it_accepts_a_node_file_in_an_allowed_directory(tmp_path, template):
    node = tmp_path / "a.xml"
    node.write_text("<node/>")
    uri = template.format(node)
    parsed = parse(uri, test_node_dirs=[str(tmp_path)], allow_test_driver=True)
    assert parsed.build() == uri and parsed.node_file == str(node)


@pytest.mark.parametrize("uri", ["test:///default", "test+tcp://127.0.0.1/default", "test+unix:///default",
                                 "TEST:///default"])
def test_it_refuses_the_test_driver_unless_it_is_allowed(uri):
    with pytest.raises(URIError, match="VIRTDECK_ALLOW_TEST_DRIVER"):
        parse(uri, test_node_dirs=["/srv/nodes"])


def test_it_refuses_a_node_file_on_another_machine(tmp_path):
    """The file is checked here; libvirt on another machine would read another one."""
    node = tmp_path / "a.xml"
    node.write_text("<node/>")
    with pytest.raises(URIError, match="must name this machine"):
        parse(f"test+tcp://kvm1.example.org{node}", test_node_dirs=[str(tmp_path)], allow_test_driver=True)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "required"),
        ("xen:///system", "Unsupported URI scheme"),
        ("qemu+ext:///system", "Unsupported URI scheme"),
        ("qemu+ssh://h/system?command=/bin/sh", "'command' is not allowed"),
        ("qemu+ssh://h/system?netcat=/tmp/x", "'netcat' is not allowed"),
        ("qemu+unix:///system?socket=/tmp/evil", "'socket' is not allowed"),
        ("qemu+ssh://h/system?proxy=native", "'proxy' is not allowed"),
        ("qemu+ssh://h/system?keyfile=/root/.ssh/id_rsa", "set by virtdeck"),
        ("qemu+tcp:///system", "needs a host name"),
        ("qemu://kvm1/system", "local and takes no host name"),
        ("qemu+tcp://h/elsewhere", "/system"),
        ("test:///etc/passwd", "node XML"),
        ("test:///../x.xml", "node XML"),
        ("test:///srv/nodes/../../etc/x.xml", "node XML"),
        ("test:///srv/elsewhere/x.xml", "node XML"),
        ("test:///srv/nodes/secret_key%00.xml", "percent-encoded"),
        ("test:///srv/nodes/%2e%2e/%2e%2e/etc/shadow.xml", "percent-encoded"),
        ("test+tcp://127.0.0.1/etc/shadow%00.xml", "percent-encoded"),
        ("qemu:///session", "/system"),
        ("qemu+tcp://[127.0.0.1:1/system", "Malformed URI"),
        ("qemu+ssh://user@[evil]/system", "Malformed URI"),
        ("qemu+tcp://h:99999/system", "Invalid port"),
        ("qemu+tcp://user:secret@h/system", "password"),
        ("qemu+tcp://h/system#frag", "fragment"),
        ("qemu+tcp://h/sys tem", "whitespace"),
        ("qemu+ssh://-oProxyCommand=x/system", "Invalid host name"),
        ("qemu+ssh://-oProxyCommand=evil@h/system", "Invalid user name"),
        ("qemu+ssh://ro%20ot@h/system", "Invalid user name"),
        ("qemu+ssh://root@h;id/system", "Invalid host name"),
        ("qemu+ssh://h/system?COMMAND=/bin/sh", "'COMMAND' is not allowed"),
        ("qemu+ssh://h/system?comm%61nd=/bin/sh", "'command' is not allowed"),
    ],
)
def test_it_refuses_dangerous_or_malformed_uris(uri, reason):
    with pytest.raises(URIError, match=reason):
        parse(uri, test_node_dirs=["/srv/nodes"], allow_test_driver=True)


def test_it_accepts_no_node_files_unless_a_directory_is_allowed():
    with pytest.raises(URIError, match="none configured"):
        parse("test:///srv/nodes/a.xml", allow_test_driver=True)
    assert parse("test:///default", allow_test_driver=True).path == "/default"


def test_it_adds_managed_parameters_when_building():
    parsed = parse("qemu+libssh://root@kvm1/system")
    built = parsed.build({"keyfile": "/var/lib/virtdeck/credentials/x/id_key", "sshauth": "privkey"})
    assert built == "qemu+libssh://root@kvm1/system?keyfile=/var/lib/virtdeck/credentials/x/id_key&sshauth=privkey"


def test_it_classifies_transports():
    assert parse("qemu+ssh://h/system").has_shell
    assert parse("qemu:///system").has_shell
    assert not parse("qemu+tcp://h/system").has_shell
    assert parse("test:///default", allow_test_driver=True).is_test
    assert parse("qemu+tls://h/system").is_remote
