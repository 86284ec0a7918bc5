"""Translated libvirt errors never carry a node file's content nor a private file's path."""
import pytest

from virt import errors
from virt.connection import ConnectionSpec, Pool

SECRET = "SECRET-LINE-Qx7 hunter2"
DOMAIN = "<domain type='{type}'><name>d</name><memory>1024</memory><os><type>hvm</type></os>{extra}</domain>"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


@pytest.fixture
def pool():
    p = Pool(call_timeout=2.0, connect_timeout=2.0)
    yield p
    p.close_all()


@pytest.mark.parametrize("content", [
    f"{SECRET}\n<node/>",
    f"<node>\n<cpu><model>{SECRET}</cpu>\n</node>",
    "<node><domain file='{secret}'/></node>",
    "<node>" + DOMAIN.format(type=SECRET.split()[0], extra="") + "</node>",
    f"<node xmlns:test='{TEST_NS}'>"
    + DOMAIN.format(type="test", extra=f"<test:runstate>{SECRET}</test:runstate>") + "</node>",
    f"<{SECRET.split()[0]}/>",
], ids=["first-line", "malformed", "loads-a-file", "domain-type", "runstate", "root"])
def test_it_says_only_that_a_node_file_is_invalid(pool, tmp_path, content):
    """libvirt quotes the line (or value) it cannot parse; opened here with no check in front."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    node = tmp_path / "node.xml"
    node.write_text(content.format(secret=secret))
    with pytest.raises(errors.InvalidConfig) as raised:
        pool.call(ConnectionSpec(key="node", uri=f"test://{node}"), lambda conn: conn.getHostname())
    assert raised.value.message == errors.NODE_FILE_INVALID
    assert "SECRET" not in str(raised.value) and str(tmp_path) not in str(raised.value)


def test_it_keeps_libvirts_words_for_other_errors(pool):
    with pytest.raises(errors.HostUnreachable, match="Connection refused"):
        pool.call(ConnectionSpec(key="refused", uri="qemu+tcp://127.0.0.1:1/system"), lambda conn: conn.getHostname())


def test_it_never_shows_where_private_files_live(pool, tmp_path, monkeypatch):
    credentials = tmp_path / "credentials"
    monkeypatch.setattr(errors, "_private_dirs", {})
    errors.hide_paths_under(credentials, "[credentials]")
    pkipath = credentials / "0123456789abcdef0123"
    pkipath.mkdir(parents=True)
    (pkipath / "cacert.pem").write_text("not a certificate\n")
    spec = ConnectionSpec(key="tls", uri=f"qemu+tls://127.0.0.1:1/system?pkipath={pkipath}")
    with pytest.raises(errors.VirtError) as raised:
        pool.call(spec, lambda conn: conn.getHostname())
    assert "[credentials]/cacert.pem" in raised.value.message
    assert str(tmp_path) not in raised.value.message
