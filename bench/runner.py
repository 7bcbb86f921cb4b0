"""Runs the scenarios warm through the real stack and their floors through a plain cursor, and
collects median/p95, query counts, rows returned and the web process's peak memory."""

import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import django
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from crm.core.audit.models import AuditEntry
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer
from crm.org.models import User

from . import scenarios as sc


SLOW_S, SLOW_RUNS = 1.0, 10  # a scenario slower than a second (far over any budget) gets 10 timed runs


def p95(samples):
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def summary(samples_s):
    ms = [s * 1000 for s in samples_s]
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(p95(ms), 2),
            "min_ms": round(min(ms), 2), "max_ms": round(max(ms), 2), "runs": len(ms)}


def time_app(client, scenario, runs, warmup):
    def once(i):
        req = scenario.requests[i % len(scenario.requests)]
        cpu = time.thread_time()
        started = time.perf_counter()
        response = getattr(client, req.method)(req.path, req.params, **req.headers)
        elapsed = time.perf_counter() - started
        cpu = time.thread_time() - cpu
        if response.status_code != 200:
            raise AssertionError(f"{scenario.key}: {req.path} answered {response.status_code}: "
                                 f"{response.content[:300]!r}")
        return elapsed, cpu, response

    slow = False
    for i in range(max(warmup, 1)):
        slow = once(i)[0] > SLOW_S
    if slow:
        runs = min(runs, SLOW_RUNS)
    samples, cpu = [], []
    for i in range(runs):
        elapsed, used, _response = once(i)
        samples.append(elapsed)
        cpu.append(used)
    # One more run, untimed, to count queries and rows (capturing adds its own overhead).
    with CaptureQueriesContext(connection) as captured:
        _t, _c, response = once(0)
    queries = captured.captured_queries
    # (Only a SELECT can be explained: not a SET, BEGIN or SAVEPOINT.)
    slowest = max((q for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "(SELECT"))),
                  key=lambda q: float(q["time"]), default=None)
    return {
        **summary(samples),
        # CPU time of the web process itself (Python: ORM, views, templates), which other
        # processes on the machine do not inflate; the rest of the server time is the database
        # and waiting for a CPU.
        "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
        "queries": len(queries),
        "rows": scenario.count_rows(response),
        "slowest_query": {"sql": slowest["sql"], "ms": round(float(slowest["time"]) * 1000, 2)} if slowest else None,
        "response_bytes": len(response.content),
    }


def time_floor(scenario, runs, warmup):
    with connection.cursor() as cursor:
        for i in range(max(warmup, 1)):
            started = time.perf_counter()
            scenario.floor(cursor, i)
        if time.perf_counter() - started > SLOW_S:
            runs = min(runs, SLOW_RUNS)
        samples = []
        for i in range(runs):
            started = time.perf_counter()
            rows = scenario.floor(cursor, i)
            samples.append(time.perf_counter() - started)
    return {**summary(samples), "rows": rows}


def explain(sql):
    """The plan of one captured query (EXPLAIN ANALYZE on PostgreSQL)."""
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def peak_memory_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)


def cpu_check():
    """µs for a fixed bit of pure Python (best of 5): shows how busy the machine was, since other
    processes on the same cores slow every timing down."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(200):
            sum(range(1000))
        best = min(best, (time.perf_counter() - started) / 200 * 1e6)
    return round(best, 1)


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine():
    info = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "django": django.get_version(), "load_average_start": load_average(), "cpu_check_us": cpu_check()}
    try:
        info["ram_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def database():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            knobs = {}
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit",
                         "max_parallel_workers_per_gather"):
                cursor.execute(f"SHOW {name}")
                knobs[name] = cursor.fetchone()[0]
            return {"vendor": "postgresql", "label": f"PostgreSQL {version.split()[0]}", "version": version, "settings": knobs}
        cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
        return {"vendor": connection.vendor, "label": f"SQLite {version}", "version": version, "settings": {}}


def git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=settings.BASE_DIR, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=settings.BASE_DIR,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def data_counts():
    return {
        "customers": Customer.all_objects.count(), "contacts": Contact.all_objects.count(),
        "notes": Note.objects.count(), "audit_entries": AuditEntry.objects.count(), "users": User.objects.count(),
    }


def raise_priority(niceness=-20):
    """Run the web process and its PostgreSQL backend ahead of other work on a shared machine
    (needs root or CAP_SYS_NICE); returns what was raised, for the report."""
    pids = {"web process": os.getpid()}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids["database backend"] = cursor.fetchone()[0]
    raised = []
    for label, pid in pids.items():
        try:
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
            raised.append(label)
        except (OSError, AttributeError):
            pass
    return {"niceness": niceness, "raised": raised} if raised else None


def run(scale, runs=None, warmup=None, explain_plans=False, only=None, log=None, high_priority=False):
    """Run every scenario; returns the report dict (see bench.report for the files)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    runs = runs or scale.runs
    warmup = scale.warmup if warmup is None else warmup
    started = datetime.now(timezone.utc)
    info = machine()
    db = database()
    ctx = sc.setup(connection.vendor)
    priority = raise_priority() if high_priority else None
    hosts = list(settings.ALLOWED_HOSTS) + ["testserver"]
    results = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
        client = Client()
        client.force_login(ctx.user)
        api_client = Client()
        for scenario in sc.scenarios(ctx):
            if only and scenario.key not in only:
                continue
            log(f"  {scenario.key:<18} {scenario.title}")
            app = time_app(api_client if scenario.api else client, scenario, runs, warmup)
            floor = time_floor(scenario, runs, warmup)
            budget = sc.BUDGETS[scenario.budget]
            ok, reasons = budget.check(app["p95_ms"], floor["p95_ms"])
            entry = {
                "key": scenario.key, "title": scenario.title, "budget_key": scenario.budget, "budget": budget.text,
                "requests": [{"path": r.path, "params": r.params} for r in scenario.requests],
                "app": app, "floor": floor,
                "ratio_p95": round(app["p95_ms"] / floor["p95_ms"], 2) if floor["p95_ms"] else None,
                "within_budget": ok, "misses": reasons,
            }
            if explain_plans and app["slowest_query"]:
                entry["slowest_plan"] = explain(app["slowest_query"]["sql"])
            results.append(entry)
            log(f"  {'':<18} app p95 {app['p95_ms']:.1f} ms (median {app['median_ms']:.1f}), floor p95 "
                f"{floor['p95_ms']:.1f} ms, {app['queries']} queries, {app['rows']} rows{'' if ok else '  MISS'}")
    imported = None
    if not only or "import" in only:  # INT-4: CSV import throughput (bench/imports.py)
        from . import imports

        imported = imports.run(ctx.user, rows=imports.rows_for(scale), log=log)
    return {
        "scale": scale.name, "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_commit(), "machine": {**info, "load_average_end": load_average()}, "database": db, "data": data_counts(),
        "user": {"username": ctx.user.username, "name": ctx.user.name, "scope": "department subtree",
                 "departments": len(ctx.departments), "visible_customers": ctx.visible_customers,
                 "share": round(ctx.visible_customers / ctx.total_customers, 3) if ctx.total_customers else None},
        "runs": runs, "warmup": warmup, "method": "Django test client in-process; server time per request",
        "priority": priority,
        "scenarios": results, "import": imported, "only": sorted(only) if only else None, "peak_memory_mb": peak_memory_mb(),
    }
