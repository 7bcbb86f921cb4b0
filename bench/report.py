"""The report: Markdown and JSON files in bench/reports/, the growth check against the latest run
one scale below, and the latest large-scale table in docs/benchmarks.md."""

import json
import re
from pathlib import Path

from django.conf import settings

from . import SCALES
from .scenarios import GROWTH_LIMIT

REPORTS_DIR = Path(settings.BASE_DIR) / "bench" / "reports"
DOCS_FILE = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
DOCS_BEGIN = "<!-- bench:latest-large:begin -->"
DOCS_END = "<!-- bench:latest-large:end -->"


def previous(scale_name, vendor, out_dir=REPORTS_DIR):
    """The latest JSON report of `scale_name` on `vendor`, or None."""
    best = None
    for path in Path(out_dir).glob(f"{scale_name}-*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("only"):
            continue  # a partial run (--only) is no reference
        if data.get("scale") == scale_name and data.get("database", {}).get("vendor") == vendor:
            if best is None or data.get("started_at", "") > best[1].get("started_at", ""):
                best = (path, data)
    return best


def add_growth(report, out_dir=REPORTS_DIR):
    """p95 here / p95 at the scale one tenth of this one (same database engine)."""
    below = SCALES[report["scale"]].below
    found = previous(below.name, report["database"]["vendor"], out_dir) if below else None
    if not found:
        return
    path, other = found
    theirs = {s["key"]: s for s in other.get("scenarios", [])}
    report["growth"] = {"against": path.name, "scale": below.name, "limit": GROWTH_LIMIT,
                        "applies": report["scale"] == "large"}
    for s in report["scenarios"]:
        o = theirs.get(s["key"])
        if o and o["app"]["p95_ms"]:
            s["growth_p95"] = round(s["app"]["p95_ms"] / o["app"]["p95_ms"], 2)
            if report["scale"] == "large" and s["growth_p95"] > GROWTH_LIMIT:
                s["within_budget"] = False
                s["misses"].append(f"growth {s['growth_p95']}× > {GROWTH_LIMIT}× ({below.name} → {report['scale']})")


def _ms(v):
    return f"{v:,.1f}"


def table(report):
    growth = "growth" in report
    head = ["scenario", "budget", "app median ms", "app p95 ms", "web CPU ms", "floor median ms", "floor p95 ms",
            "ratio p95", "queries", "rows"] + (["growth p95"] if growth else []) + ["result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in report["scenarios"]:
        a, f = s["app"], s["floor"]
        verdict = "ok" if s["within_budget"] else "MISS: " + "; ".join(s["misses"])
        cells = [f"{s['title']}", s["budget"], _ms(a["median_ms"]), _ms(a["p95_ms"]), _ms(a["cpu_median_ms"]),
                 _ms(f["median_ms"]),
                 _ms(f["p95_ms"]), f"{s['ratio_p95']}×" if s["ratio_p95"] else "—", str(a["queries"]), str(a["rows"])]
        if growth:
            cells.append(f"{s['growth_p95']}×" if s.get("growth_p95") else "—")
        cells.append(verdict)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def context_lines(report):
    m, db, d, u = report["machine"], report["database"], report["data"], report["user"]
    knobs = ", ".join(f"{k} {v}" for k, v in db.get("settings", {}).items())
    lines = [
        f"- Machine: {m.get('cpus')} CPUs ({m.get('cpu', 'unknown CPU')}), {m.get('ram_gib', '?')} GiB RAM, "
        f"{m.get('platform')}; Python {m.get('python')}, Django {m.get('django')}",
        f"- Machine load: load average {m.get('load_average_start')} at the start, {m.get('load_average_end')} at the "
        f"end; CPU check {m.get('cpu_check_us')} µs (a fixed pure-Python loop; higher = busier or slower CPU)",
        f"- Database: {db['label']}" + (f" ({knobs})" if knobs else ""),
        f"- Data: {d['customers']:,} customers, {d['contacts']:,} contacts, {d['notes']:,} notes, "
        f"{d['audit_entries']:,} audit entries, {d['users']:,} users",
        f"- User: {u['username']} ({u['name']}), {u['scope']} over {u['departments']} departments: "
        f"{u['visible_customers']:,} visible customers ({u['share']:.1%} of all)" if u.get("share") is not None else "",
        f"- Method: {report['method']}; {report['warmup']} warm-up runs, then {report['runs']} timed runs per "
        f"scenario (at most 10 for one slower than a second); the floor is timed the same way through a plain cursor; ratio = app p95 / floor p95; "
        f"web CPU = median CPU time of the web process per request (the rest is database and waiting for a CPU)",
        f"- Priority: {' and '.join(report['priority']['raised'])} at nice {report['priority']['niceness']} "
        f"(--high-priority), so that other work on the machine disturbs the timings less" if report.get("priority") else "",
        f"- Peak memory of the web process (ru_maxrss): {report['peak_memory_mb']:,.0f} MB",
    ]
    load = report.get("load")
    if load:
        lines.append(f"- Load: {load['total_rows']:,} rows in {load['seconds']:,.0f} s (rows {load['rows_seconds']:,.0f} s at "
                     f"{load['rows_per_second']:,} rows/s, {load['indexes_rebuilt']} indexes and constraints rebuilt in "
                     f"{load['index_seconds']:,.0f} s, funnel summary {load.get('funnel_summary_seconds', 0):,.0f} s, "
                     f"ANALYZE {load['analyze_seconds']:,.0f} s)")
        if load.get("search_rows"):
            lines.append(f"- Search index rebuild: {load['search_rows']:,} records in {load['search_seconds']:,.0f} s "
                         f"({load['search_rows_per_second']:,} records/s, GIN indexes included)")
    if "growth" in report:
        g = report["growth"]
        lines.append(f"- Growth: p95 here / p95 at {g['scale']} ({g['against']})"
                     + (f"; budget ≤ {g['limit']}×" if g["applies"] else " (the budget applies to large vs medium)"))
    return [line for line in lines if line]


def markdown(report):
    title = (f"# Benchmark: {report['scale']} on {report['database']['label']} — {report['started_at']}"
             + (f", commit {report['git']}" if report.get("git") else ""))
    note = ("Budgets are DESIGN.md's, which apply at \"large\" on PostgreSQL; at other scales the results are "
            "indicative." if report["scale"] != "large" or report["database"]["vendor"] != "postgresql" else
            "Budgets are DESIGN.md's performance budgets.")
    parts = [title, "", *context_lines(report), "", note, "", table(report), ""]
    parts += ["## Slowest query of each scenario", ""]
    for s in report["scenarios"]:
        q = s["app"].get("slowest_query")
        if q:
            sql = re.sub(r"\s+", " ", q["sql"])
            parts.append(f"- `{s['key']}` {q['ms']} ms: `{sql[:400]}{'…' if len(sql) > 400 else ''}`")
    plans = [s for s in report["scenarios"] if s.get("slowest_plan")]
    if plans:
        parts += ["", "## Plans of the slowest queries", ""]
        for s in plans:
            parts += [f"### {s['key']}", "", "```", s["slowest_plan"], "```", ""]
    return "\n".join(parts) + "\n"


def write(report, out_dir=REPORTS_DIR):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    base = out / f"{report['scale']}-{stamp}"
    md = markdown(report)
    base.with_suffix(".md").write_text(md, encoding="utf-8")
    base.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return base.with_suffix(".md"), base.with_suffix(".json"), md


def update_docs(report, md_path, docs=DOCS_FILE):
    """Replace the latest large-scale table in docs/benchmarks.md (between its markers)."""
    if not docs.exists():
        return False
    text = docs.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        return False
    block = "\n".join([
        DOCS_BEGIN,
        f"Run {report['started_at']}" + (f" at commit {report['git']}" if report.get("git") else "")
        + f" on {report['database']['label']} (report `bench/reports/{Path(md_path).name}`).",
        "",
        *context_lines(report), "", table(report), DOCS_END,
    ])
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    docs.write_text(text[:start] + block + text[end:], encoding="utf-8")
    return True
