import pytest

from audit.models import AuditEntry
from core.models import Job
from instances.models import InstanceTemplate

# Node fixtures with domains, networks, pools and volumes: each round of fleet_rows adds a host of each.
FLEET_NODES = ("hardware", "networks", "storage", "wizard")


@pytest.fixture
def fleet_rows(make_host, admin_user, member):
    """Call to add a round of rows to every list: hosts with their VMs, networks, pools and volumes; jobs
    (some by nobody), templates, audit entries (varied users, results and parameters)."""
    rounds = []

    def add():
        number = len(rounds)
        for index, node in enumerate(FLEET_NODES):
            host = make_host(node, host_name=f"{node}-{number}")
            Job.objects.create(kind=f"test-{index}", host=host, user=(admin_user, member, None)[index % 3],
                               target_name=host.name, progress=(number * 7 + index * 13) % 101,
                               status=("queued", "running", "succeeded", "failed")[index])
            AuditEntry.objects.create(user=admin_user, username=(admin_user.username, "", "zed")[index % 3],
                                      source="api", action=f"test-{node}-{number}", target=host.name,
                                      address=f"127.0.0.{index + 1}", result=("ok", "refused", "failed")[index % 3],
                                      job_id=index or None, params={"round": number, "node": node})
        for index in range(2):
            InstanceTemplate.objects.create(name=f"template-{number}-{index}", description=f"round {number}",
                                            answers={"memory_mib": 256 * (number + index + 1), "name": f"vm{index}"})
        rounds.append(number)

    return add
