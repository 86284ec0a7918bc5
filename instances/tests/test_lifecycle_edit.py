"""PATCH /api/instances/{id}/ (name, autostart, vcpus, memory_mib) and the rename form, on libvirt's test driver.

The small host has 8 CPUs and 16 GiB; web1 runs (2 vCPUs, 512 MiB), db1 is shut off (1 vCPU, 1 GiB).
Every result is read back from libvirt (the domain's XML and counters), not only from the answer.
"""
import pytest
from django.urls import reverse
from lxml import etree

from hosts.connection import call
from instances.models import Instance

pytestmark = pytest.mark.django_db
INACTIVE = 2  # VIR_DOMAIN_XML_INACTIVE


def url(vm):
    return f"/api/instances/{vm.pk}/"


def raw(vm, fn):
    uuid = str(vm.uuid)
    return call(vm.host, lambda conn: fn(conn.lookupByUUIDString(uuid)))


def config(vm):
    """(vcpus current, vcpus maximum, memory KiB, maximum KiB, name, autostart) of the definition."""
    def read(dom):
        root = etree.fromstring(dom.XMLDesc(INACTIVE).encode())
        vcpu = root.find("vcpu")
        return (int(vcpu.get("current", vcpu.text)), int(vcpu.text), int(root.findtext("currentMemory")),
                int(root.findtext("memory")), root.findtext("name"), dom.autostart())
    return raw(vm, read)


def live(vm):
    """(vcpus, memory KiB, maximum KiB) of the running VM, from virDomainGetInfo."""
    _state, maximum, memory, vcpus, _cpu = raw(vm, lambda dom: dom.info())
    return vcpus, memory, maximum


@pytest.fixture
def small(make_host):
    return make_host("small")


@pytest.fixture
def db1(small):
    return Instance.objects.get(name="db1")


@pytest.fixture
def web1(small):
    return Instance.objects.get(name="web1")


def test_it_changes_a_shut_off_vm_in_its_configuration(api, db1):
    response = api.patch(url(db1), {"vcpus": 4, "memory_mib": 2048, "autostart": True, "name": "db2"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == {"name": ["config"], "autostart": ["config"], "vcpus": ["config"],
                               "max_vcpus": ["config"], "memory_mib": ["config"], "max_memory_mib": ["config"]}
    assert body["next_boot"] == [] and body["name"] == "db2" and body["autostart"] is True
    assert config(db1) == (4, 4, 2048 * 1024, 2048 * 1024, "db2", 1)
    row = Instance.objects.get(pk=db1.pk)
    assert (row.name, row.vcpus, row.memory_kib, row.autostart) == ("db2", 4, 2048 * 1024, True)


def test_it_lowers_a_shut_off_vm_but_not_its_maximums(api, db1):
    api.patch(url(db1), {"vcpus": 4, "memory_mib": 2048}, format="json")
    response = api.patch(url(db1), {"memory_mib": 256, "vcpus": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["applied"] == {"vcpus": ["config"], "memory_mib": ["config"]}
    assert config(db1)[:4] == (1, 4, 256 * 1024, 2048 * 1024)


def test_it_changes_a_running_vm_live_within_its_maximum(api, web1):
    response = api.patch(url(web1), {"vcpus": 1, "memory_mib": 256}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == {"vcpus": ["config", "live"], "memory_mib": ["config", "live"]}
    assert body["next_boot"] == []
    assert live(web1) == (1, 256 * 1024, 512 * 1024)
    assert config(web1)[:4] == (1, 2, 256 * 1024, 512 * 1024)


def test_it_says_a_change_past_the_running_maximum_waits_for_the_next_boot(api, web1):
    response = api.patch(url(web1), {"vcpus": 4, "memory_mib": 1024}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == {"vcpus": ["config"], "max_vcpus": ["config"], "memory_mib": ["config"],
                               "max_memory_mib": ["config"]}
    assert body["next_boot"] == ["max_memory_mib", "max_vcpus", "memory_mib", "vcpus"]
    assert live(web1) == (2, 512 * 1024, 512 * 1024)  # the running VM is as it was
    assert config(web1)[:4] == (4, 4, 1024 * 1024, 1024 * 1024)


@pytest.mark.parametrize("body,field,words", [
    ({"vcpus": 0}, "vcpus", "greater than or equal to 1"),
    ({"vcpus": -2}, "vcpus", "greater than or equal to 1"),
    ({"vcpus": 9}, "vcpus", "more than the host has (8 CPUs)"),
    ({"vcpus": 10**6}, "vcpus", "less than or equal to 4096"),
    ({"vcpus": "9" * 5000}, "vcpus", "String value too large"),
    ({"vcpus": "two"}, "vcpus", "valid integer"),
    ({"vcpus": 1.5}, "vcpus", "valid integer"),
    ({"vcpus": None}, "vcpus", "may not be null"),
    ({"memory_mib": -1}, "memory_mib", "greater than or equal to 1"),
    ({"memory_mib": 16385}, "memory_mib", "more than the host has (16384 MiB)"),
    ({"vcpus": 9, "name": "db2"}, "vcpus", "more than the host has"),  # checked before the rename
    ({"memory_mib": 2**70}, "memory_mib", "less than or equal to"),
    ({"name": "a/b"}, "name", "cannot contain '/'"),
    ({"name": ".."}, "name", "'..'"),
    ({"name": ""}, "name", "may not be blank"),
    ({"name": "   "}, "name", "A name is required"),
    ({"name": "-rf"}, "name", "start with '-'"),
    ({"name": "evil\u202ename"}, "name", "Bidirectional"),
    ({"name": "tab\tname"}, "name", "Control characters"),
    ({"name": "x" * 501}, "name", "no more than 500"),
    ({"name": "web1"}, "name", "already exists"),
    ({"autostart": "maybe"}, "autostart", "valid boolean"),
    ({"memory": 512}, "memory", "Unknown field"),
    ({}, "non_field_errors", "Nothing to change"),
    ({"vcpus": 2, "name": "a/b"}, "name", "cannot contain '/'"),  # nothing else changes either
])
def test_it_refuses_bad_input_naming_the_field_and_changes_nothing(api, db1, body, field, words):
    before_row = Instance.objects.filter(pk=db1.pk).values().get()
    before = config(db1)
    response = api.patch(url(db1), body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors and words in " ".join(errors[field]), errors
    assert config(db1) == before
    assert Instance.objects.filter(pk=db1.pk).values().get() == before_row


@pytest.mark.parametrize("body", [[1, 2], "vcpus=2", 42])
def test_it_refuses_a_body_that_is_not_an_object(api, db1, body):
    before = config(db1)
    response = api.patch(url(db1), body, format="json")
    assert response.status_code == 400 and config(db1) == before


def test_it_refuses_to_rename_a_running_vm_and_changes_nothing(api, web1):
    before = config(web1)
    response = api.patch(url(web1), {"name": "web2", "vcpus": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Cannot rename a VM that is running."]}
    assert config(web1) == before and live(web1)[0] == 2


def test_it_refuses_put_and_anonymous_callers(api, client, db1):
    before = config(db1)
    assert api.put(url(db1), {"vcpus": 2}, format="json").status_code == 405
    assert client.patch(url(db1), '{"vcpus": 2}', content_type="application/json").status_code == 401
    assert config(db1) == before


def test_it_renames_from_the_page(admin_client, db1):
    response = admin_client.post(reverse("instances:instance_rename", args=[db1.pk]), {"name": "db-renamed"},
                                 follow=True)
    assert [str(m) for m in response.context["messages"]] == ["db1 renamed to db-renamed."]
    assert config(db1)[4] == "db-renamed" and Instance.objects.get(pk=db1.pk).name == "db-renamed"


@pytest.mark.parametrize("name,words", [("web1", "already exists"), ("a/b", "cannot contain '/'"), ("", "required")])
def test_it_shows_why_a_rename_was_refused_on_the_page(admin_client, db1, name, words):
    response = admin_client.post(reverse("instances:instance_rename", args=[db1.pk]), {"name": name}, follow=True)
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert len(messages) == 1 and messages[0][0] == "error" and words in messages[0][1], messages
    assert config(db1)[4] == "db1"


def test_it_renames_by_post_only_with_csrf(admin_user, admin_client, db1):
    from django.test import Client

    rename = reverse("instances:instance_rename", args=[db1.pk])
    assert admin_client.get(rename).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(rename, {"name": "x"}).status_code == 403
    assert config(db1)[4] == "db1"


def test_it_gives_the_rename_field_an_id_no_other_form_of_the_page_uses(admin_client, db1):
    import re

    content = admin_client.get(db1.get_absolute_url()).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', content)
    assert "id_rename_name" in ids and len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# PATCH /api/instances/{id}/ and PATCH /api/instances/{id}/config/ share devices.update_config: one semantics.


def patch_either(api, vm, route, body):
    return api.patch(url(vm) + ("config/" if route == "config" else ""), body, format="json")


@pytest.mark.parametrize("route", ["instance", "config"])
@pytest.mark.parametrize("body,expected", [
    ({"vcpus": 6}, (6, 6, 1024 * 1024, 1024 * 1024)),  # over db1's maximum of 1: the maximum grows with it
    ({"memory_mib": 3072}, (1, 1, 3072 * 1024, 3072 * 1024)),
    ({"memory_mib": 512}, (1, 1, 512 * 1024, 1024 * 1024)),  # lower: the maximum stays
])
def test_it_gives_both_routes_the_same_result_on_a_shut_off_vm(api, db1, route, body, expected):
    response = patch_either(api, db1, route, body)
    assert response.status_code == 200, response.content
    assert config(db1)[:4] == expected


@pytest.mark.parametrize("route", ["instance", "config"])
def test_it_gives_both_routes_the_same_result_on_a_running_vm(api, web1, route):
    response = patch_either(api, web1, route, {"vcpus": 3, "memory_mib": 256})
    assert response.status_code == 200, response.content
    # 3 vCPUs is over the running maximum of 2: next boot (with the maximum); 256 MiB fits the balloon: live.
    assert live(web1) == (2, 256 * 1024, 512 * 1024)
    assert config(web1)[:4] == (3, 3, 256 * 1024, 512 * 1024)


@pytest.mark.parametrize("route", ["instance", "config"])
@pytest.mark.parametrize("body,field", [({"vcpus": 9}, "vcpus"), ({"memory_mib": 20000}, "memory_mib"),
                                        ({"vcpus": 0}, "vcpus")])
def test_it_gives_both_routes_the_same_refusal(api, db1, route, body, field):
    before = config(db1)
    response = patch_either(api, db1, route, body)
    assert response.status_code == 400 and field in response.json(), response.content
    assert config(db1) == before
