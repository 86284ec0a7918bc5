"""/api/hosts/ under bad and hostile input: a clear 4xx (never a 500), nothing half-saved, no secret echoed.

Everything that could connect uses libvirt's test driver (test:///) or loopback (127.0.0.1, port 1 refuses).
"""
import json
import uuid
from pathlib import Path

import pytest

from core.models import Job
from core.testing import node_uri
from hosts.connection import connection_spec
from hosts.credentials import credentials_path
from hosts.models import Host

pytestmark = pytest.mark.django_db
LIST = "/api/hosts/"
REFUSED = "qemu+tcp://127.0.0.1:1/system"  # loopback, nothing listens: libvirt says "Connection refused"
SECRETS = {"password": "pw-Zq9-never-shown", "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nKEY-Zq9\n",
           "tls_client_key": "-----BEGIN PRIVATE KEY-----\nTLS-Zq9\n"}
SECRET_MARKERS = ("pw-Zq9", "KEY-Zq9", "TLS-Zq9")
MB = 1024 * 1024


def row(host):
    """Every stored column of a host, as the database has it now."""
    fresh = Host.objects.get(pk=host.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Host._meta.concrete_fields}


def assert_no_secret(response):
    text = response.content.decode(errors="replace")
    for marker in SECRET_MARKERS:
        assert marker not in text, (marker, text[:500])


def post(api, payload):
    return api.post(LIST, payload, format="json")


# --- bodies that are not a JSON object ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["{not json", "", "{", '{"name": "x",}', "'single'", "nul\x00", '{"name": NaN, "uri": "test:///default"}',
     b'{"name": "\xff\xfe", "uri": "test:///default"}', '{"name": "x", "uri": "test:///default"} trailing',
     "[]", "[1, 2]", '[{"name": "x", "uri": "test:///default"}]', "42", "-1.5e308", "true", "null", '"a string"'],
    ids=["malformed", "empty", "truncated", "trailing-comma", "single-quotes", "nul", "nan", "bad-utf8", "trailing",
         "empty-array", "array", "array-of-object", "number", "float", "bool", "null", "string"],
)
def test_it_refuses_a_body_that_is_not_a_json_object(api, body):
    response = api.post(LIST, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()  # a JSON error body says why
    assert not Host.objects.exists()


def test_it_refuses_deeply_nested_json(api):
    response = api.post(LIST, "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert not Host.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/html", "application/yaml",
                                          "application/octet-stream", "image/png", "application/x-evil"])
def test_it_refuses_content_types_it_does_not_parse(api, content_type):
    body = json.dumps({"name": "x", "uri": "test:///default"})
    response = api.post(LIST, body, content_type=content_type)
    assert response.status_code == 415
    assert not Host.objects.exists()


def test_it_refuses_a_multipart_body_without_a_boundary(api):
    response = api.post(LIST, b"garbage", content_type="multipart/form-data")
    assert response.status_code == 400
    assert not Host.objects.exists()


def test_it_refuses_a_file_upload_in_place_of_a_string(api):
    import io

    response = api.post(LIST, {"name": "x", "uri": "test:///default", "ssh_private_key": io.BytesIO(b"KEY")},
                        format="multipart")
    assert response.status_code == 400 and "ssh_private_key" in response.json()
    assert not Host.objects.exists()




@pytest.mark.parametrize(
    "charset",
    ["rot13", "zlib", "bz2", "hex", "base64", "uu", "punycode", "undefined", "no-such-charset"],
)
def test_it_refuses_json_in_a_charset_that_is_not_text(api, charset):
    api.raise_request_exception = False
    body = json.dumps({"name": "x", "uri": "test:///default"})
    response = api.post(LIST, body, content_type=f"application/json; charset={charset}")
    if charset == "no-such-charset":  # Django ignores a charset it does not know and reads UTF-8
        assert response.status_code == 201
        return
    assert response.status_code in (400, 415), response.status_code
    assert not Host.objects.exists()


@pytest.mark.parametrize(
    "charset",
    ["rot13", "zlib", "hex", "quopri", "punycode", "undefined"],
)
def test_it_refuses_a_form_in_a_charset_that_is_not_text(api, charset):
    api.raise_request_exception = False
    response = api.post(LIST, "name=x&uri=test%3A%2F%2F%2Fdefault",
                        content_type=f"application/x-www-form-urlencoded; charset={charset}")
    assert response.status_code in (400, 415), response.status_code
    assert not Host.objects.exists()


# --- field values ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", []), ("name", {}), ("name", True), ("name", None), ("name", ["small"]), ("name", {"$gt": ""}),
     ("uri", 123), ("uri", 1.5), ("uri", []), ("uri", {}), ("uri", False), ("uri", None), ("uri", [node_uri("small")]),
     ("password", []), ("password", {"a": 1}), ("password", True), ("ssh_private_key", ["KEY"]),
     ("ssh_known_hosts", {"h": "k"}), ("tls_ca_cert", [1]), ("description", []), ("migration_address", {}),
     ("username", ["root"])],
)
def test_it_refuses_wrong_types(api, field, value):
    payload = {"name": "typed", "uri": node_uri("small"), field: value}
    response = post(api, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Host.objects.exists()


def test_it_reads_a_number_as_the_string_it_spells(api):
    """DRF's CharField takes 123 as "123" (documented DRF behaviour); it is stored as a string, nothing worse."""
    response = post(api, {"name": 123, "uri": node_uri("small")})
    assert response.status_code == 201, response.content
    assert Host.objects.get().name == "123"


@pytest.mark.parametrize(
    ("field", "size"),
    [("name", MB), ("uri", MB), ("description", MB), ("migration_address", MB), ("username", MB), ("name", 101),
     ("uri", 501)],
)
def test_it_refuses_oversized_strings(api, field, size):
    value = "test:///" + "a" * size if field == "uri" else "a" * size
    response = post(api, {"name": "big", "uri": node_uri("small"), field: value})
    assert response.status_code == 400, response.status_code
    assert field in response.json()
    assert len(response.content) < 10_000  # the error does not echo the megabyte back
    assert not Host.objects.exists()


@pytest.mark.parametrize("field", ["ssh_private_key", "ssh_known_hosts", "password", "tls_ca_cert", "tls_client_cert",
                                   "tls_client_key"])
def test_it_refuses_a_megabyte_credential(api, field):
    response = post(api, {"name": "bigkey", "uri": node_uri("small"), field: "k" * MB})
    assert response.status_code == 400
    assert field in response.json()
    assert not Host.objects.exists()


@pytest.mark.parametrize("field", ["name", "uri", "description", "migration_address", "username", "password",
                                   "ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert",
                                   "tls_client_key"])
def test_it_refuses_nul_bytes_in_every_field(api, field):
    payload = {"name": "nul", "uri": node_uri("small")}
    payload[field] = payload.get(field, "abc") + "\x00tail"
    response = post(api, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Host.objects.exists()


@pytest.mark.parametrize("field", ["name", "password", "ssh_known_hosts", "uri"])
def test_it_refuses_lone_surrogates(api, field):
    """JSON can spell a lone surrogate (\\ud800) that no database or file can store."""
    payload = {"name": "sur", "uri": node_uri("small")}
    payload[field] = payload.get(field, "abc") + "\ud800"
    response = api.post(LIST, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Host.objects.exists()


@pytest.mark.parametrize("name", ["evil\x1b[31mred", "bell\x07", "two\nlines", "cr\rname", "del\x7f"])
def test_it_refuses_control_characters_in_a_name(api, name):
    response = post(api, {"name": name, "uri": node_uri("small")})
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Host.objects.exists()


@pytest.mark.parametrize("field", ["name", "description", "username", "migration_address"])
@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200e", "\u200f", "\u061c"])
def test_it_refuses_bidirectional_controls_in_names(api, field, char):
    payload = {"name": "bidi", "uri": node_uri("small")}
    payload[field] = f"rlo-{char}gpj.exe"
    response = post(api, payload)
    assert response.status_code == 400, response.content
    assert response.json() == {field: [f"Bidirectional control characters (U+{ord(char):04X}) are not allowed."]}
    assert not Host.objects.exists()


def test_it_refuses_bidirectional_controls_when_renaming(api, make_host):
    host = make_host("small")
    response = api.patch(f"{LIST}{host.pk}/", {"name": "rlo-\u202egpj.exe"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert Host.objects.get().name == "small"


def test_it_refuses_bidirectional_controls_in_the_host_form(admin_client):
    response = admin_client.post("/hosts/add/", {"name": "rlo-\u202egpj.exe", "uri": node_uri("small")})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Bidirectional control characters (U+202E) are not allowed."]
    assert not Host.objects.exists()


@pytest.mark.parametrize("name", ["ウェブ-1", "🚀 rocket", "Ωmega", "naïve café", "שרת-1", "خادم", "<script>alert(1)</script>",
                                  "'; DROP TABLE hosts_host; --", "%s%s%n", "{{ 7*7 }}", "../../etc/passwd"])
def test_it_stores_unicode_and_markup_in_a_name_verbatim(api, name):
    response = post(api, {"name": name, "uri": node_uri("small")})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == name
    assert Host.objects.get().name == name
    assert api.get(f"{LIST}{response.json()['id']}/").json()["name"] == name


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_it_refuses_a_blank_name(api, name):
    response = post(api, {"name": name, "uri": node_uri("small")})
    assert response.status_code == 400 and "name" in response.json()
    assert not Host.objects.exists()


def test_it_refuses_a_duplicate_name_and_keeps_the_first(api, make_host):
    first = make_host("small")
    before = row(first)
    response = post(api, {"name": "small", "uri": node_uri("empty")})
    assert response.status_code == 400 and "name" in response.json()
    assert Host.objects.count() == 1 and row(first) == before


def test_it_ignores_unknown_and_read_only_fields_on_create(api):
    response = post(api, {
        "name": "mass", "uri": node_uri("small"), "id": 999, "state": "unreachable", "facts": {"evil": True},
        "capabilities_xml": "<evil/>", "last_error": "pwned", "latency_ms": -1, "memory_total_kib": 1,
        "cpu_times": {"user": 1}, "created": "2000-01-01T00:00:00Z", "has_password": True, "vm_count": 1000,
        "is_superuser": True, "url": "http://evil.example/", "__proto__": {"x": 1},
    })
    assert response.status_code == 201, response.content
    host = Host.objects.get()
    assert host.pk != 999 and host.state == "up" and host.last_error == ""
    assert "evil" not in host.facts and host.capabilities_xml.startswith("<capabilities>")
    assert host.created.year > 2000 and host.password == "" and host.memory_total_kib != 1
    body = response.json()
    assert body["has_password"] is False and body["vm_count"] != 1000


# --- URIs that could run programs, open sockets or smuggle options ---------------------------------------------

DANGEROUS_URIS = [
    "qemu+ssh://127.0.0.1/system?command=/bin/sh",
    "qemu+ssh://127.0.0.1/system?netcat=/tmp/evil",
    "qemu+ssh://127.0.0.1/system?socket=/tmp/evil.sock",
    "qemu+unix:///system?socket=/tmp/evil.sock",
    "qemu:///system?socket=/tmp/evil.sock",
    "qemu+ssh://127.0.0.1/system?proxy=native",
    "qemu+ssh://127.0.0.1/system?name=qemu:///session",
    "qemu+ssh://127.0.0.1/system?mode=direct",
    "qemu+ssh://127.0.0.1/system?comm%61nd=/bin/sh",
    "qemu+ssh://127.0.0.1/system?%63%6f%6d%6d%61%6e%64=/bin/sh",
    "qemu+ssh://127.0.0.1/system?net%63at=x",
    "qemu+ssh://127.0.0.1/system?COMMAND=/bin/sh",
    "qemu+ssh://127.0.0.1/system?Command=/bin/sh",
    "qemu+ssh://127.0.0.1/system?SOCKET=/tmp/x",
    "qemu+ssh://127.0.0.1/system?no_tty=1&command=/bin/sh",
    "qemu+ssh://127.0.0.1/system?command=/bin/true&command=/bin/sh",
    "qemu+ssh://127.0.0.1/system?no_tty=1&no_tty=1&netcat=x",
    "qemu+ssh://127.0.0.1/system?no_tty=1&command",
    "qemu+ssh://127.0.0.1/system?=x",
    "qemu+ssh://127.0.0.1/system?keyfile=/etc/shadow",
    "qemu+ssh://127.0.0.1/system?key%66ile=/etc/shadow",
    "qemu+libssh://127.0.0.1/system?known_hosts=/dev/null",
    "qemu+tls://127.0.0.1/system?pkipath=/tmp",
    "qemu+ext://127.0.0.1/system",
    "qemu+ext:///system?command=/bin/sh",
    "QEMU+EXT:///system",
    "qemu+ssh+ext://127.0.0.1/system",
    "qemu+ssh://-oProxyCommand=x/system",
    "qemu+ssh://-oProxyCommand=evil@127.0.0.1/system",
    "qemu+ssh://-l@127.0.0.1/system",
    "qemu+ssh://%2DoProxyCommand%3Devil@127.0.0.1/system",
    "qemu+ssh://127.0.0.1%20-oProxyCommand=x/system",
    "qemu+ssh://user:pw@127.0.0.1/system",
    "qemu+ssh://127.0.0.1/system#frag",
    "qemu+ssh://127.0.0.1:99999/system",
    "qemu+ssh://127.0.0.1:-1/system",
    "qemu+ssh://127.0.0.1/system/../session",
    "qemu+ssh://127.0.0.1/etc/passwd",
    "qemu+ssh://127.0.0.1/system\n?command=/bin/sh",
    "qemu+ssh://127.0.0.1/system?no_tty=1 command=/bin/sh",
    "test:///default?command=/bin/sh",
    "test:///../etc/passwd.xml",
    "test:///etc/passwd",
    "test://127.0.0.1/default",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://127.0.0.1/",
    "vbox:///session",
    "lxc:///",
    "esx://127.0.0.1/",
    "/system",
    "qemu",
]


@pytest.mark.parametrize("uri", DANGEROUS_URIS)
def test_it_refuses_a_dangerous_uri_and_saves_nothing(api, uri):
    response = post(api, {"name": "evil", "uri": uri, **SECRETS})
    assert response.status_code == 400, (uri, response.status_code, response.content)
    assert "uri" in response.json()
    assert not Host.objects.exists()
    assert_no_secret(response)


@pytest.mark.parametrize("uri", ["qemu+ssh://[-oProxyCommand=x]/system", "qemu+ssh://[::1/system", "qemu+ssh://::1]/system",
                                 "qemu+tcp://[127.0.0.1:1/system", "qemu+ssh://user@[evil]/system",
                                 "qemu+ssh://[-oProxyCommand=x]:22/system", "qemu+ssh://[]/system"])
def test_it_refuses_a_malformed_bracketed_host(api, uri):
    """urlsplit raises ValueError for these: it must become the URI's 400, not escape as a 500."""
    response = post(api, {"name": "evil", "uri": uri})
    assert response.status_code == 400
    assert "uri" in response.json()
    assert not Host.objects.exists()


@pytest.mark.parametrize("uri", DANGEROUS_URIS[:20] + ["qemu+ssh://-oProxyCommand=x/system", "qemu+ext:///system"])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_it_refuses_to_change_a_host_to_a_dangerous_uri(api, make_host, uri, method):
    host = make_host("small")
    before = row(host)
    response = getattr(api, method)(f"{LIST}{host.pk}/", {"name": "small", "uri": uri}, format="json")
    assert response.status_code == 400, (uri, response.status_code)
    assert "uri" in response.json()
    assert row(host) == before


def test_it_keeps_a_separator_inside_a_value_from_becoming_a_parameter(api):
    """libvirt splits its query on ';' as well as '&': a value must never smuggle a `command=` past the allowlist."""
    response = post(api, {"name": "semi", "uri": "test:///default?no_tty=1;command=/bin/sh&sshauth=x%26command%3Dy"})
    if response.status_code == 400:
        assert not Host.objects.exists()
        return
    assert response.status_code == 201, response.content
    spec_uri = connection_spec(Host.objects.get()).uri
    query = spec_uri.partition("?")[2]
    names = [part.split("=", 1)[0].lower() for chunk in query.split("&") for part in chunk.split(";")]
    assert "command" not in names and ";" not in query


# --- test driver paths: a file's content must not come back in an error -------------------------------------------


def test_it_does_not_echo_the_content_of_a_server_file(api, tmp_path):
    """libvirt's test driver quotes the lines of a file it cannot parse: only allowed node directories are read."""
    secret = tmp_path / "not-a-node.xml"
    secret.write_text("root:SECRET-LINE-Zq9:0:0\n")
    broken = tmp_path / "broken.xml"
    broken.write_text("<node>\n<cpu>SECRET-LINE-Zq9 & more</cpu>\n")
    for path in (secret, broken):
        response = post(api, {"name": "peek", "uri": f"test://{path}"})
        assert 400 <= response.status_code < 500
        assert "SECRET-LINE" not in response.content.decode()
    assert not Host.objects.exists()


@pytest.mark.parametrize("path", ["/nonexistent/node.xml", "/etc/hostname.xml", "/dev/null.xml", "/proc/self/x.xml",
                                  "/work/main/core/testing/nodes/../../../etc/x.xml", "/tmp/%2e%2e/etc/x.xml"])
def test_it_refuses_a_test_driver_file_outside_the_node_directories(api, path):
    response = post(api, {"name": "nofile", "uri": f"test://{path}"})
    assert response.status_code == 400, response.content
    assert "uri" in response.json()
    assert not Host.objects.exists()


def test_it_answers_4xx_for_a_missing_node_file_in_an_allowed_directory(api):
    response = post(api, {"name": "nofile", "uri": f"test://{Path(node_uri('small')[7:]).parent}/missing.xml"})
    assert 400 <= response.status_code < 500, response.content
    assert not Host.objects.exists()


# --- secrets never come back -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"name": "s", "uri": REFUSED}, 503),
     ({"name": "s", "uri": "qemu+ssh://127.0.0.1/system?command=/bin/sh"}, 400),
     ({"name": "", "uri": node_uri("small")}, 400),
     ({"name": "s" * 200, "uri": "nope"}, 400),
     ({"name": "s", "uri": node_uri("small"), "description": []}, 400),
     ({"name": "s", "uri": node_uri("small")}, 201)],
    ids=["refused", "bad-uri", "blank-name", "two-errors", "wrong-type", "created"],
)
def test_it_never_echoes_a_secret_in_any_answer(api, payload, status):
    response = post(api, {**payload, **SECRETS})
    assert response.status_code == status, response.content
    assert_no_secret(response)
    if status != 201:
        assert not Host.objects.exists()


def test_it_never_echoes_a_password_written_into_the_uri(api):
    for uri in ("qemu+tcp://admin:pw-Zq9-in-uri@127.0.0.1:1/system", "ftp://admin:pw-Zq9-in-uri@127.0.0.1/",
                "qemu+tcp://admin:pw-Zq9-in-uri@127.0.0.1:abc/system", "qemu+tcp://admin:pw-Zq9-in-uri@h/nope"):
        response = post(api, {"name": "u", "uri": uri})
        assert response.status_code == 400, (uri, response.content)
        assert "pw-Zq9" not in response.content.decode()
    assert not Host.objects.exists()


def test_it_keeps_secrets_out_of_every_read_and_of_jobs(api, make_host):
    host = make_host("small", **SECRETS)
    for url in (LIST, f"{LIST}{host.pk}/", f"{LIST}?format=json", f"{LIST}{host.pk}/?format=api", "/api/jobs/"):
        response = api.get(url)
        assert response.status_code == 200, url
        assert_no_secret(response)
    patched = api.patch(f"{LIST}{host.pk}/", {"description": "rack 9", **SECRETS}, format="json")
    assert patched.status_code == 200
    assert_no_secret(patched)
    refresh = api.post(f"{LIST}{host.pk}/refresh/")
    assert refresh.status_code == 202
    assert_no_secret(refresh)
    job = Job.objects.get(pk=refresh.json()["id"])
    stored = json.dumps([job.params, job.result, job.log, job.error, job.target_name])
    assert not any(marker in stored for marker in SECRET_MARKERS)
    assert_no_secret(api.get(f"/api/jobs/{job.pk}/"))


def key_material():
    """Credentials no earlier run used, so their private directory cannot already exist."""
    tag = uuid.uuid4().hex
    fields = {**SECRETS, "ssh_private_key": f"-----BEGIN OPENSSH PRIVATE KEY-----\nKEY-Zq9-{tag}",
              "ssh_known_hosts": f"127.0.0.1 ssh-ed25519 AAAA{tag}"}
    return {key: value.strip() for key, value in fields.items()}  # as the serializer stores them (trimmed)


def test_it_never_stores_a_refused_hosts_key_files(api):
    """A refused create leaves no credential directory behind (nothing half-created on disk either)."""
    fields = key_material()
    directory = credentials_path(Host(**fields))
    response = post(api, {"name": "sshy", "uri": "qemu+ssh://127.0.0.1:1/system", **fields})
    assert response.status_code == 503, response.content
    assert_no_secret(response)
    assert not Host.objects.exists()
    assert not directory.exists()


def test_it_leaves_no_key_files_behind_a_refused_update(api, make_host):
    host = make_host("small")
    before = row(host)
    fields = key_material()
    directory = credentials_path(Host(**fields))
    response = api.patch(f"{LIST}{host.pk}/", {"uri": "qemu+ssh://127.0.0.1:1/system", **fields}, format="json")
    assert response.status_code == 503, response.content
    assert_no_secret(response)
    assert row(host) == before
    assert not directory.exists()


def test_it_keeps_the_stored_hosts_key_files_when_an_update_is_refused(api, make_host):
    """A refused edit that keeps the credentials must not remove the files the saved host still uses."""
    fields = {k: v for k, v in key_material().items() if k in ("ssh_private_key", "ssh_known_hosts")}
    host = make_host("small", **fields)
    directory = credentials_path(Host.objects.get(pk=host.pk))
    connection_spec(Host.objects.get(pk=host.pk))  # the saved host's directory, as any connection makes it
    assert directory.exists()
    before = row(host)
    response = api.patch(f"{LIST}{host.pk}/", {"uri": REFUSED}, format="json")
    assert response.status_code == 503, response.content
    assert row(host) == before and directory.exists()


# --- updates: read-only fields, failed updates change nothing ----------------------------------------------------


def test_it_ignores_read_only_fields_on_patch(api, make_host):
    host = make_host("small")
    before = row(host)
    response = api.patch(f"{LIST}{host.pk}/", {
        "id": 999, "state": "unreachable", "facts": {"evil": True}, "last_error": "pwned", "latency_ms": -1,
        "last_seen": None, "last_sync": "2000-01-01T00:00:00Z", "memory_total_kib": 1, "memory_free_kib": -5,
        "cpu_percent": 1e308, "created": "2000-01-01T00:00:00Z", "capabilities_xml": "<evil/>",
        "cpu_times": {"user": 1}, "has_password": True, "vm_count": 1000, "running_count": -1, "url": "x",
    }, format="json")
    assert response.status_code == 200, response.content
    assert row(host) == before
    assert response.json()["state"] == "up" and response.json()["has_password"] is False


@pytest.mark.parametrize(
    "payload",
    [{"uri": REFUSED}, {"uri": "qemu+ssh://127.0.0.1/system?command=/bin/sh"}, {"name": ""}, {"name": "x" * 101},
     {"name": None}, {"description": "d" * 201}, {"uri": []}, {"name": "ok", "uri": REFUSED, "password": "pw-Zq9-x"},
     {"name": "renamed", "description": "changed", "uri": "nope"}],
    ids=["refused", "dangerous", "blank", "long", "null", "long-description", "list", "refused-with-secret",
         "half-valid"],
)
def test_it_changes_nothing_when_an_update_fails(api, make_host, payload):
    host = make_host("small", password="stored-secret")
    before = row(host)
    response = api.patch(f"{LIST}{host.pk}/", payload, format="json")
    assert response.status_code in (400, 503), response.content
    assert row(host) == before
    assert_no_secret(response)


def test_it_refuses_a_rename_onto_another_host(api, make_host):
    first, second = make_host("small"), make_host("empty")
    before = row(second)
    response = api.patch(f"{LIST}{second.pk}/", {"name": first.name}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert row(second) == before


@pytest.mark.parametrize("body", ["[1, 2]", "null", "42", '"x"', "{bad"])
def test_it_refuses_a_non_object_update(api, make_host, body):
    host = make_host("small")
    before = row(host)
    for method in (api.patch, api.put):
        response = method(f"{LIST}{host.pk}/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert row(host) == before


def test_it_needs_every_required_field_on_put(api, make_host):
    host = make_host("small")
    before = row(host)
    response = api.put(f"{LIST}{host.pk}/", {"description": "only this"}, format="json")
    assert response.status_code == 400 and {"name", "uri"} <= set(response.json())
    assert row(host) == before


# --- ids, methods and list parameters ----------------------------------------------------------------------------

BAD_IDS = ["abc", "0", "-1", "1.5", "1e3", "0x1", "99999999999999999999", "9223372036854775808", "-9223372036854775809",
           "%00", "%20", "..%2F..%2Fetc", "' OR '1'='1", "1;DROP TABLE hosts_host"]


@pytest.mark.parametrize("pk", BAD_IDS)
def test_it_answers_404_for_ids_that_are_not_hosts(api, make_host, pk):
    make_host("small")
    before = Host.objects.count()
    url = f"{LIST}{pk}/"
    assert api.get(url).status_code == 404
    assert api.patch(url, {"description": "x"}, format="json").status_code == 404
    assert api.put(url, {"name": "x", "uri": node_uri("small")}, format="json").status_code == 404
    assert api.delete(url).status_code == 404
    assert api.post(f"{url}refresh/").status_code == 404
    assert Host.objects.count() == before and not Job.objects.exists()


def test_it_refuses_methods_a_route_does_not_have(api, make_host):
    host = make_host("small")
    assert api.put(LIST, {"name": "x"}, format="json").status_code == 405
    assert api.patch(LIST, {"name": "x"}, format="json").status_code == 405
    assert api.delete(LIST).status_code == 405
    assert api.post(f"{LIST}{host.pk}/", {"name": "x"}, format="json").status_code == 405
    assert api.get(f"{LIST}{host.pk}/refresh/").status_code == 405
    assert api.delete(f"{LIST}{host.pk}/refresh/").status_code == 405
    assert Host.objects.count() == 1 and not Job.objects.exists()


def test_it_ignores_a_refresh_body_whatever_it_is(api, make_host):
    host = make_host("small")
    for body, content_type in (("garbage", "text/plain"), ("[1,2]", "application/json"), ("{bad", "application/json")):
        response = api.post(f"{LIST}{host.pk}/refresh/", body, content_type=content_type)
        assert response.status_code == 202, response.content
        job = Job.objects.get(pk=response.json()["id"])
        assert job.params == {"host_id": host.pk}


def test_it_refuses_an_anonymous_hostile_create(client):
    response = client.post(LIST, {"name": "x", "uri": "qemu+ssh://127.0.0.1/system?command=/bin/sh"},
                           content_type="application/json")
    assert response.status_code == 401
    assert not Host.objects.exists()


@pytest.mark.parametrize("ordering", ["password", "-password", "ssh_private_key", "tls_client_key", "password__gt",
                                      "capabilities_xml", "facts__x", "name,password", "?", "", ",,,", "-", "--name",
                                      "%00", "name;DROP TABLE hosts_host"])
def test_it_never_sorts_hosts_by_a_secret(api, make_host, ordering):
    for name, key in (("a", "zzz"), ("b", "aaa"), ("c", "mmm")):
        make_host("empty", host_name=name, password=key)
    response = api.get(LIST, {"ordering": ordering})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        names = [h["name"] for h in response.json()["results"]]
        assert names in (["a", "b", "c"], ["c", "b", "a"])  # by name (default or asked), never by the secret


@pytest.mark.parametrize(
    "params",
    [{"state": "bogus"}, {"state": "%00"}, {"state": "up' OR 1=1 --"}],
)
def test_it_refuses_bad_filter_values_on_hosts(api, make_host, params):
    make_host("small")
    response = api.get(LIST, params)
    assert response.status_code == 400
    assert "state" in response.json()


@pytest.mark.parametrize(
    ("params", "count"),
    [({"limit": "-1"}, 1), ({"limit": "abc"}, 1), ({"limit": "0"}, 1), ({"limit": "1.5"}, 1), ({"offset": "-5"}, 1),
     ({"offset": "abc"}, 1), ({"offset": "9" * 30}, 0), ({"offset": str(2 ** 63)}, 0)],
)
def test_it_reads_bad_paging_as_the_default_page(api, make_host, params, count):
    make_host("small")
    response = api.get(LIST, params)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == count




@pytest.mark.parametrize("limit", [v
                                   for v in (str(2 ** 63), "9" * 30)] + [str(2 ** 63 - 1)])
def test_it_answers_a_huge_limit_with_a_page(api, make_host, limit):
    make_host("small")
    api.raise_request_exception = False
    response = api.get(LIST, {"limit": limit})
    assert response.status_code in (200, 400), response.status_code
