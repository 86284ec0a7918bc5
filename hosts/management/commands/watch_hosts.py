import signal

from django.core.management.base import BaseCommand, CommandError

from hosts.leases import HostLeases
from hosts.watcher import Watcher


class Command(BaseCommand):
    help = "Follow libvirt lifecycle events on every host and keep the inventory fresh."

    def add_arguments(self, parser):
        parser.add_argument("--rescan", type=float, default=2.0, help="seconds between looks for added or broken hosts")
        parser.add_argument("--lease", type=float, default=None,
                            help="seconds a stopped watcher's hosts wait before another takes them "
                                 "(default: VIRTDECK_WATCHER_LEASE_SECONDS)")

    def handle(self, *args, rescan, lease, **options):
        leases = HostLeases(ttl=lease)
        if leases.ttl <= rescan:
            raise CommandError(f"--lease ({leases.ttl:g} s) must be longer than --rescan ({rescan:g} s)")
        # Run several: each watches its share of the hosts (hosts/leases.py).
        watcher = Watcher(rescan_interval=rescan, leases=leases)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: watcher.stop.set())
        self.stdout.write(f"watching a share of the hosts as {leases.owner}; Ctrl+C stops")
        watcher.run()
