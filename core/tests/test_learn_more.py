"""Each dialog where virtdeck acts links the concepts guide's section that explains it ("Learn more",
templates/core/_learn_more.html), and each anchor exists in the guide (tests/test_docs_concepts.py)."""
import pytest
from django.urls import reverse

from instances.models import Instance
from storage.models import StoragePool, Volume

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def pages(make_host):
    """[(path, headers, the anchors its Learn more links must name)]."""
    host = make_host("small")
    storage = make_host("storage", host_name="storage")
    make_host("empty", host_name="empty")
    web1 = Instance.objects.get(host=host, name="web1")
    images = StoragePool.objects.get(host=storage, name="images")
    volume = Volume.objects.filter(pool=images).first()
    return [
        (reverse("hosts:host_detail", args=[host.pk]), {}, ["kvm-and-tcg"]),
        (reverse("networks:network_add"), {}, ["network-modes", "nat-packet-path"]),
        (reverse("storage:volume_add", args=[images.pk]), {}, ["thin-and-thick", "raw-and-qcow2"]),
        (reverse("storage:volume_convert", args=[volume.pk]), {}, ["raw-and-qcow2"]),
        (reverse("instances:instance_snapshots", args=[web1.pk]), HTMX, ["snapshots"]),
        (reverse("instances:instance_snapshot_delete", args=[web1.pk, "s1"]), {}, ["snapshots"]),
        (reverse("instances:instance_migrate", args=[web1.pk]), {}, ["live-migration"]),
        (reverse("instances:instance_xml", args=[web1.pk]), {}, ["domain-xml"]),
        (reverse("instances:instance_from_xml"), {}, ["domain-xml"]),
    ]


def test_it_links_each_dialog_to_its_section_of_the_guide(admin_client, pages):
    guide = reverse("guide:concepts")
    for path, headers, anchors in pages:
        response = admin_client.get(path, headers=headers)
        assert response.status_code == 200, path
        for anchor in anchors:
            assert f'href="{guide}#{anchor}" data-learn-more="{anchor}"' in response.content.decode(), (path, anchor)

