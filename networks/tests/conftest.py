import pytest

from networks.models import Network


@pytest.fixture
def host(make_host):
    """A test-driver host with four networks (NAT, isolated, host bridge, macvtap), synced into rows."""
    return make_host("networks")


@pytest.fixture
def backend(host):
    return Network.objects.get(host=host, name="backend")
