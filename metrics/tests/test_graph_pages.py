"""Host and VM pages carry the graphs (their series URL, Chart.js and metrics.js) and name their live topics."""
import pytest

from instances.models import Instance

pytestmark = pytest.mark.django_db


def test_it_puts_graphs_on_the_vm_page(admin_client, make_host):
    host = make_host("small")
    web1 = Instance.objects.get(host=host, name="web1")
    content = admin_client.get(f"/instances/{web1.pk}/").content.decode()
    assert f'data-metrics="/api/metrics/instances/{web1.pk}/"' in content
    assert 'data-fields="disk_read_bps disk_write_bps"' in content
    assert "vendor/chartjs/chart.umd.min.js" in content and "js/metrics.js" in content
    assert f'<meta name="live-topics" content="instance:{web1.pk}">' in content


def test_it_puts_graphs_on_the_host_page(admin_client, make_host):
    host = make_host("small")
    content = admin_client.get(f"/hosts/{host.pk}/").content.decode()
    assert f'data-metrics="/api/metrics/hosts/{host.pk}/"' in content
    assert 'data-fields="memory_used_kib memory_total_kib"' in content
    assert f'<meta name="live-topics" content="host:{host.pk}">' in content


@pytest.mark.parametrize(("path", "topics"), [("/instances/", "instance"), ("/hosts/", "host instance"),
                                               ("/jobs/", "job"), ("/networks/", "network"),
                                               ("/storage/pools/", "storage"), ("/storage/volumes/", "storage")])
def test_it_names_the_topics_of_list_pages(admin_client, db, path, topics):
    assert f'<meta name="live-topics" content="{topics}">' in admin_client.get(path).content.decode()


def test_it_leaves_pages_without_topics_on_every_event(admin_client, make_host):
    from networks.models import Network

    network = Network.objects.filter(host=make_host("networks")).first()
    assert 'name="live-topics"' not in admin_client.get(f"/networks/{network.pk}/").content.decode()
