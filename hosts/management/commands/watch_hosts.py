import signal

from django.core.management.base import BaseCommand

from hosts.watcher import Watcher


class Command(BaseCommand):
    help = "Follow libvirt lifecycle events on every host and keep the inventory fresh."

    def add_arguments(self, parser):
        parser.add_argument("--rescan", type=float, default=2.0, help="seconds between looks for added or broken hosts")

    def handle(self, *args, rescan, **options):
        watcher = Watcher(rescan_interval=rescan)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: watcher.stop.set())
        self.stdout.write("watching hosts; Ctrl+C stops")
        watcher.run()
