import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from ...schedule import PERIODIC, tick

log = logging.getLogger("crm.core.jobs")


class Command(BaseCommand):
    help = ("Run the job scheduler: enqueue periodic jobs when due (each slot once, however many "
            "schedulers run), hand retries back to the worker when their wait is over, and re-queue "
            "jobs whose worker died.")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between rounds (default 10)")
        parser.add_argument("--once", action="store_true", help="run one round and exit")

    def handle(self, *, interval, once, verbosity, **options):
        self.running = True

        def stop(signum, frame):
            self.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if verbosity:
            self.stdout.write(f"scheduler: {len(PERIODIC)} periodic jobs: {', '.join(sorted(PERIODIC)) or '-'}")
        while self.running:
            close_old_connections()
            try:
                enqueued = tick()
                if enqueued and verbosity:
                    self.stdout.write(f"scheduler: enqueued {', '.join(enqueued)}")
            except Exception:  # a locked or unreachable database: try again next round
                log.exception("scheduler round failed")
            if once:
                break
            deadline = time.monotonic() + interval
            while self.running and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
