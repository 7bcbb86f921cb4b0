"""`crm bench --scale small|medium|large --db URL [--runs N] [--skip-load]`: the benchmark of
issue #3 (the code lives in bench/ at the repository root; see docs/benchmarks.md).

The database named by --db is the benchmark's own: it is recreated (dropped, created, migrated)
before each load, so its name must contain "bench". Loading and measuring run in two child
processes with DATABASE_URL set to it, so the measuring process's peak memory is the web
process's alone.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

CHILD_ENV = "CRM_BENCH_CHILD"


def _bench():
    root = str(settings.BASE_DIR)
    if not (Path(root) / "bench" / "__init__.py").exists():
        raise CommandError("bench/ is not here: the benchmark runs from a source checkout of the CRM")
    if root not in sys.path:
        sys.path.insert(0, root)
    import bench

    return bench


class Command(BaseCommand):
    help = "Generate a data set at scale and measure the performance budgets of DESIGN.md against it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", default="small", help="tiny, small (1/100 of large), medium (1/10) or large")
        parser.add_argument("--db", help="database URL of the benchmark's own database, e.g. "
                            "postgres://postgres@127.0.0.1:5432/crm_bench_large (default: var/bench-<scale>.sqlite3)")
        parser.add_argument("--runs", type=int, help="timed runs per scenario (default per scale)")
        parser.add_argument("--warmup", type=int, help="warm-up runs per scenario (default per scale)")
        parser.add_argument("--skip-load", action="store_true", help="reuse the data already loaded into --db")
        parser.add_argument("--load-only", action="store_true", help="load the data, measure nothing")
        parser.add_argument("--only", help="comma-separated scenario keys to run (default: all)")
        parser.add_argument("--explain", action="store_true", help="add the plan of each scenario's slowest query")
        parser.add_argument("--out", help="directory for the reports (default: bench/reports/)")
        parser.add_argument("--no-docs", action="store_true",
                            help="do not update the latest large-scale table in docs/benchmarks.md")
        parser.add_argument("--strict", action="store_true", help="exit with status 1 when a budget is missed")
        parser.add_argument("--high-priority", action="store_true",
                            help="run the measuring process and its database backend at nice -20 (root; for shared machines)")
        parser.add_argument("--phase", choices=["load", "run"], help=argparse_suppress())

    def handle(self, *args, **opts):
        bench = _bench()
        if opts["scale"] not in bench.SCALES:
            raise CommandError(f"unknown scale {opts['scale']!r}; choose from {', '.join(bench.SCALES)}")
        scale = bench.SCALES[opts["scale"]]
        if opts["phase"] == "load":
            return self.load(scale, opts)
        if opts["phase"] == "run":
            return self.measure(scale, opts)
        return self.orchestrate(scale, opts)

    # --- the parent: checks the database, then a child to load and a child to measure ---

    def orchestrate(self, scale, opts):
        from bench import db

        url = opts["db"] or db.default_url(scale.name)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = "sqlite:///" + str(Path(url[len("sqlite:///"):]).resolve())  # relative to where we were started
        developer = [os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") and not os.environ.get(CHILD_ENV) else []
        try:
            db.check_dedicated(url, developer)
        except db.UnsafeDatabase as exc:
            raise CommandError(str(exc))
        env = {**os.environ, "DATABASE_URL": url, "CRM_DEBUG": "0", CHILD_ENV: "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")]))}
        env.setdefault("DB_CONN_MAX_AGE", "600")
        passthrough = ["--scale", scale.name]
        for name in ("runs", "warmup", "only", "out"):
            if opts[name] is not None:
                passthrough += [f"--{name}", str(opts[name])]
        for name in ("explain", "no_docs", "strict", "high_priority"):
            if opts[name]:
                passthrough.append("--" + name.replace("_", "-"))
        python = [sys.executable, "-m", "django", "bench"]
        if not opts["skip_load"]:
            self.stderr.write(f"Recreating {db.describe(url)} and loading scale {scale.name} "
                              f"({scale.customers:,} customers)…")
            db.recreate(url)
            self._child(python + passthrough + ["--phase", "load"], env)
        elif not db.exists(url):
            raise CommandError(f"{db.describe(url)} does not exist; run without --skip-load first")
        if opts["load_only"]:
            return
        self._child(python + passthrough + ["--phase", "run"], env)

    def _child(self, argv, env):
        done = subprocess.run(argv, env=env, cwd=settings.BASE_DIR)
        if done.returncode:
            raise CommandError(f"benchmark step failed with status {done.returncode}", returncode=done.returncode)

    # --- the children: DATABASE_URL is the benchmark database ---

    def _load_file(self, out_dir):
        from django.db import connection

        key = hashlib.sha1(f"{connection.vendor}:{connection.settings_dict['NAME']}".encode()).hexdigest()[:12]
        return Path(out_dir) / f"load-{key}.json"

    def load(self, scale, opts):
        from bench import generator, report

        call_command("migrate", interactive=False, verbosity=0)
        summary = generator.load(scale)
        out = Path(opts["out"] or report.REPORTS_DIR)
        out.mkdir(parents=True, exist_ok=True)
        self._load_file(out).write_text(json.dumps(summary, indent=2))
        self.stderr.write(f"Loaded {summary['total_rows']:,} rows in {summary['seconds']:,.0f} s "
                          f"({summary['rows_per_second']:,} rows/s while loading; indexes {summary['index_seconds']:,.0f} s).")

    def measure(self, scale, opts):
        from bench import report, runner
        from crm.customers.models import Customer

        call_command("migrate", interactive=False, verbosity=0)
        found = Customer.all_objects.count()
        if not found:
            raise CommandError("the benchmark database holds no customers; run without --skip-load")
        if found != scale.customers:
            self.stderr.write(self.style.WARNING(f"The database holds {found:,} customers; scale {scale.name} "
                                                 f"has {scale.customers:,}."))
        out = Path(opts["out"] or report.REPORTS_DIR)
        self.stderr.write(f"Measuring scale {scale.name}…")
        only = set(opts["only"].split(",")) if opts["only"] else None
        result = runner.run(scale, runs=opts["runs"], warmup=opts["warmup"], explain_plans=opts["explain"], only=only,
                            high_priority=opts["high_priority"])
        load_file = self._load_file(out)
        if load_file.exists():
            result["load"] = json.loads(load_file.read_text())
        report.add_growth(result, out)
        md_path, json_path, md = report.write(result, out)
        self.stdout.write(md)
        self.stderr.write(f"Reports: {md_path} and {json_path.name}")
        if scale.name == "large" and result["database"]["vendor"] == "postgresql" and not opts["no_docs"]:
            if report.update_docs(result, md_path):
                self.stderr.write("Updated the latest large-scale table in docs/benchmarks.md.")
        if opts["strict"] and not all(s["within_budget"] for s in result["scenarios"]):
            raise CommandError("some scenarios missed their budget", returncode=1)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
