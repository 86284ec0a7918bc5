"""The audit page through the standard list tests (core/testing): filters, every column sorting, pages."""
import pytest

from audit.models import AuditEntry
from core.testing.views import ListViewTests

pytestmark = pytest.mark.django_db


class TestAuditList(ListViewTests):
    url_name = "audit:auditentry_list"
    filters = [({"result": "refused"}, {"refused"}), ({"search": "network-stop"}, {"network"})]

    @pytest.fixture
    def objects(self, admin_user):
        entries = [
            AuditEntry.objects.create(user=admin_user, username="admin", address="10.0.0.2", source="api",
                                      action="api-networks:network-stop", target="networks.network:3",
                                      params={"force": True}, status=200, result="ok", job_id=7),
            AuditEntry.objects.create(username="", address="10.0.0.1", source="page", action="hosts:host_add",
                                      status=403, result="refused"),
        ]
        names = {entries[0].pk: "network", entries[1].pk: "refused"}
        self.filters = [(query, {str(entry) for entry in entries if names[entry.pk] in expected})
                        for query, expected in self.filters]
        return entries
