"""/api/templates/: CRUD of the wizard's saved answers, checked like the wizard's own."""
import pytest

from instances.models import InstanceTemplate

pytestmark = pytest.mark.django_db
LIST = "/api/templates/"
ANSWERS = {"os_variant": "debian11", "memory_mib": 512, "vcpus": 1, "disk_pool": "images", "disk_size_gib": 8,
           "disk_format": "qcow2", "network": "default"}


def test_it_creates_reads_updates_and_deletes_a_template(api):
    created = api.post(LIST, {"name": "web", "description": "a web server", "answers": ANSWERS}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert InstanceTemplate.objects.get(pk=pk).answers == ANSWERS
    assert api.get(LIST).json()["results"][0]["name"] == "web"
    assert api.get(f"{LIST}{pk}/").json()["answers"]["memory_mib"] == 512
    patched = api.patch(f"{LIST}{pk}/", {"answers": {**ANSWERS, "memory_mib": "1024"}}, format="json")
    assert patched.status_code == 200 and InstanceTemplate.objects.get(pk=pk).answers["memory_mib"] == 1024
    assert api.delete(f"{LIST}{pk}/").status_code == 204
    assert not InstanceTemplate.objects.exists()


def test_it_refuses_a_duplicate_name(api):
    InstanceTemplate.objects.create(name="web", answers={})
    response = api.post(LIST, {"name": "web", "answers": {}}, format="json")
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize(("answers", "field"), [
    ({"name": "vm1"}, "name"),
    ({"vcpus": -1}, "vcpus"),
    ({"install": "iso", "iso_volume": "iso/../x"}, "iso_volume"),
    ({"firmware": "coreboot"}, "firmware"),
    ({"unknown": 1}, "unknown"),
])
def test_it_refuses_bad_answers_naming_the_field(api, answers, field):
    response = api.post(LIST, {"name": "t", "answers": answers}, format="json")
    assert response.status_code == 400 and field in response.json()["answers"]
    assert not InstanceTemplate.objects.exists()


@pytest.mark.parametrize("answers", [[], "x", 5])
def test_it_refuses_answers_that_are_not_an_object(api, answers):
    response = api.post(LIST, {"name": "t", "answers": answers}, format="json")
    assert response.status_code == 400 and "answers" in response.json()


def test_it_refuses_control_characters_in_the_name(api):
    response = api.post(LIST, {"name": "rlo-\u202egpj", "answers": {}}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_it_refuses_anonymous_callers(client):
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {"name": "t"}, content_type="application/json").status_code == 401
