"""The VM page shows the virsh line behind each button its state allows, built from the VM's own host URI."""
import html

import pytest
from django.urls import reverse

from instances.models import Instance

pytestmark = pytest.mark.django_db


def page_of(admin_client, vm):
    return admin_client.get(reverse("instances:instance_detail", args=[vm.pk])).content.decode()


def test_it_shows_the_commands_the_state_allows(admin_client, make_host):
    host = make_host("small")
    running, shut_off = Instance.objects.get(host=host, name="web1"), Instance.objects.get(host=host, name="db1")
    page = page_of(admin_client, running)
    for verb in ("shutdown", "reboot", "destroy", "suspend", "managedsave"):
        line = html.escape(f"virsh -c {host.uri} {verb} web1")
        assert f'data-copy-command="{line}"' in page, verb
    assert html.escape(f"virsh -c {host.uri} start web1") not in page  # a running VM offers no start
    page = page_of(admin_client, shut_off)
    assert f'data-copy-command="{html.escape(f"virsh -c {host.uri} start db1")}"' in page
    assert html.escape(f"virsh -c {host.uri} shutdown db1") not in page


def test_it_quotes_a_name_the_shell_would_split(admin_client, make_host):
    host = make_host("small")
    vm = Instance.objects.get(host=host, name="db1")
    Instance.objects.filter(pk=vm.pk).update(name="db 1;$(x)")
    vm.refresh_from_db()
    page = page_of(admin_client, vm)
    assert html.escape(f"virsh -c {host.uri} start 'db 1;$(x)'") in page
