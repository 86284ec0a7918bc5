"""Three personas for ownership tests, as healthchecks' BaseTestCase has alice, bob and charlie:

- `admin`: a superuser; sees and may do everything;
- `operator`: granted one VM (`vm`, web1 on `host`) with every operator action, and nothing else;
- `outsider`: logged in, no grant at all.

`other_vm` (db1) is on the same host as `vm` and not granted; `foreign_host` (the wizard node: a network,
pools, volumes, VMs) is granted to nobody, so everything on it is the admin's alone.

    class TestSomething(PersonaTests):
        def test_it_validates_ownership(self):
            assert self.client_for(self.outsider).get(self.vm.get_absolute_url()).status_code == 404
"""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from access.models import CAPABILITIES, Grant, Role
from instances.models import Instance

from . import PASSWORD


def make_personas(make_host):
    """Create the personas and their objects; returns a dict of them (see the module's docstring)."""
    users = get_user_model().objects
    host = make_host("small", host_name="persona-host")
    foreign_host = make_host("wizard", host_name="foreign-host")
    vm = Instance.objects.get(host=host, name="web1")
    operator = users.create_user("operator", "operator@example.org", PASSWORD)
    Grant.objects.create(user=operator, role=Role.OPERATOR, instance=vm, **dict.fromkeys(CAPABILITIES, True))
    return {
        "admin": users.create_superuser("admin", "admin@example.org", PASSWORD),
        "operator": operator,
        "outsider": users.create_user("outsider", "outsider@example.org", PASSWORD),
        "host": host, "foreign_host": foreign_host, "vm": vm,
        "other_vm": Instance.objects.get(host=host, name="db1"),
    }


def client_for(user):
    """A page client logged in as `user` (CSRF not enforced, as Django's test client)."""
    client = Client()
    client.force_login(user)
    return client


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class PersonaTests:
    """A test base: self.admin, self.operator, self.outsider, self.host, self.foreign_host, self.vm,
    self.other_vm, and clients for each persona."""

    @pytest.fixture(autouse=True)
    def _personas(self, db, make_host):
        for name, value in make_personas(make_host).items():
            setattr(self, name, value)

    client_for = staticmethod(client_for)
    api_for = staticmethod(api_for)
