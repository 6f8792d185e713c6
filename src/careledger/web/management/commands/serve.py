"""`careledger serve`: the web server (gunicorn) and the background worker (Celery) together.

On the embedded default the worker uses the filesystem broker under var/broker, so nothing else
has to run. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web application and run the background worker."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        bindir = os.path.dirname(sys.executable)
        procs = []
        if not options["no_worker"]:
            procs.append(
                subprocess.Popen(  # noqa: S603 - fixed argv, our own executables
                    [
                        os.path.join(bindir, "celery"),
                        "-A",
                        "careledger",
                        "worker",
                        "--beat",
                        "--pool",
                        "solo",
                        "--loglevel",
                        "WARNING",
                        "--schedule",
                        str(settings.VAR_DIR / "celerybeat-schedule"),
                    ]
                )
            )
        procs.append(
            subprocess.Popen(  # noqa: S603
                [
                    os.path.join(bindir, "gunicorn"),
                    "careledger.wsgi:application",
                    "--bind",
                    f"{options['host']}:{options['port']}",
                    "--workers",
                    str(options["workers"]),
                    "--access-logfile",
                    "-",
                    "--access-logformat",
                    "%(t)s %(s)s %(M)sms rid=%({x-request-id}o)s",
                ]
            )
        )
        self.stdout.write(
            f"CareLedger on http://{options['host']}:{options['port']}/ (Ctrl-C stops)"
        )

        def stop(*_: object) -> None:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            stop()
            for p in procs:
                p.wait(timeout=20)
