"""Lists never decrypt host credentials: secrets are deferred on every list queryset."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_decryption(make_host, monkeypatch):
    from core import crypto

    from core.models import Job

    host = make_host("small", password="hunter2")
    Job.objects.create(kind="refresh_host", host=host)

    def refuse():
        raise AssertionError("a list decrypted a credential")

    monkeypatch.setattr(crypto, "_fernet", refuse)


@pytest.mark.parametrize("url", ["/", "/hosts/", "/instances/", "/jobs/", "/api/instances/"])
def test_it_lists_without_decrypting_credentials(admin_client, no_decryption, url):
    assert admin_client.get(url).status_code == 200


def test_it_still_decrypts_for_a_page_that_needs_the_credentials(admin_client, make_host):
    from instances.models import Instance

    make_host("small", password="hunter2")
    vm = Instance.objects.get(name="web1")
    assert admin_client.get(vm.get_absolute_url()).context["details"]["summary"]["name"] == "web1"
