"""The funnel's summary on PostgreSQL (SAL-3, issue #3): the manager dashboard's figures pre-added
per owner, department, territory, close month and stage, kept by database triggers.

Why: the dashboard adds up every visible opportunity and every finished stay in a stage. At a
million customers that is ~83 000 opportunities and ~150 000 of 894 000 stays for a branch
manager, ~530 ms a view however the SQL is written (docs/benchmarks.md §8), and it grows with the
data. The summary holds a few rows per owner and month instead, so the page reads thousands of
rows whatever the size of the company.

Correctness:
- **Scope.** The summary is read under the one scope predicate, `scope.scope_q_on` restating
  `Opportunity`'s predicate onto the summary's owner and department columns. When the predicate
  reads anything else (a share, a further visibility rule), or a filter does (the name search,
  close dates that cut a month), `figures` returns None and the page reads the opportunities
  (`reports.figures_one_pass`).
- **Every write.** Triggers, not application code, keep the summary, so bulk updates, imports,
  merges, transfers and raw SQL all count. Each trigger inserts signed deltas — the old
  contribution of the changed rows negated, the new one added — computed from the database's state
  at that statement, so the sum of the rows always equals the figures of the current data (tests
  hold it equal to the plain path after every kind of write). Appending instead of updating keeps
  concurrent writers from waiting on each other's summary rows; `compact` (a periodic job) merges
  the deltas.
- An opportunity's contribution: one cell row unless it is in the recycle bin; its finished stays
  in its current pipeline (`StageHistory.pipeline_id` = the opportunity's, as the plain path's
  `pipeline=` filter) under its current grain.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q

from crm.core.access import scope

from .models import FunnelCell, FunnelStays, Opportunity

OPP, STAGE, HISTORY, CUSTOMER = "sales_opportunity", "sales_stage", "sales_stagehistory", "customers_customer"
CELLS, STAYS = "sales_funnelcell", "sales_funnelstays"
CELL_GRAIN = "pipeline_id, stage_id, status, reached_order, month, owner_id, department_id, territory_id"
STAY_GRAIN = "pipeline_id, month, owner_id, department_id, territory_id, stage_id"
MONTH = "date_trunc('month', {r}.expected_close_date)::date"
# What the summary keeps of an opportunity: a change to anything else adds no delta.
KEPT = ("pipeline_id", "stage_id", "status", "reached_order", "expected_close_date", "owner_id", "department_id",
        "customer_id", "amount", "probability")


def _cells(rows, sign, where="TRUE", territory="c.territory_id", weighted=None):
    """INSERT the contribution of the opportunity rows `rows` (a table, transition table or
    subquery aliased r), multiplied by `sign`, into the cells."""
    weighted = weighted or f"{sign} * SUM(r.amount * COALESCE(r.probability, s.probability) / 100)"
    return f"""
        INSERT INTO {CELLS} ({CELL_GRAIN}, n, amount, weighted)
        SELECT r.pipeline_id, r.stage_id, r.status, r.reached_order, {MONTH.format(r="r")}, r.owner_id,
               r.department_id, {territory}, {sign} * COUNT(*), {sign} * SUM(r.amount), {weighted}
        FROM {rows} r JOIN {STAGE} s ON s.id = r.stage_id LEFT JOIN {CUSTOMER} c ON c.id = r.customer_id
        WHERE r.deleted_at IS NULL AND {where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""


def _stays_of_opportunities(rows, sign, where="TRUE", territory="c.territory_id"):
    """INSERT the finished stays of the opportunity rows `rows` (alias r), times `sign`."""
    return f"""
        INSERT INTO {STAYS} ({STAY_GRAIN}, n, seconds)
        SELECT r.pipeline_id, {MONTH.format(r="r")}, r.owner_id, r.department_id, {territory}, h.stage_id,
               {sign} * COUNT(*), {sign} * SUM(h.seconds)
        FROM {rows} r JOIN {HISTORY} h ON h.opportunity_id = r.id AND h.pipeline_id = r.pipeline_id
                                         AND h.seconds IS NOT NULL
             LEFT JOIN {CUSTOMER} c ON c.id = r.customer_id
        WHERE r.deleted_at IS NULL AND {where}
        GROUP BY 1, 2, 3, 4, 5, 6"""


def _stays_of_history(rows, sign):
    """INSERT the history rows `rows` (alias h) under their opportunity's current grain, × `sign`."""
    return f"""
        INSERT INTO {STAYS} ({STAY_GRAIN}, n, seconds)
        SELECT o.pipeline_id, {MONTH.format(r="o")}, o.owner_id, o.department_id, c.territory_id, h.stage_id,
               {sign} * COUNT(*), {sign} * SUM(h.seconds)
        FROM {rows} h JOIN {OPP} o ON o.id = h.opportunity_id AND o.pipeline_id = h.pipeline_id
                                     AND o.deleted_at IS NULL
             LEFT JOIN {CUSTOMER} c ON c.id = o.customer_id
        WHERE h.seconds IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6"""


def _changed(old, new, columns):
    return (f"({', '.join(f'{old}.{c}' for c in columns)}) IS DISTINCT FROM "
            f"({', '.join(f'{new}.{c}' for c in columns)})")


_CHANGED_OPPS = ("(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
                 + _changed("o", "n", (*KEPT, "deleted_at IS NULL")) + ")")
_CHANGED_STAYS = ("(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
                  + _changed("o", "n", ("opportunity_id", "pipeline_id", "stage_id", "seconds")) + ")")


def _function(name, body):
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\nRETURN NULL;\nEND\n$$"


def _statement_triggers(table, function):
    """Statement-level triggers with transition tables: one per event (PostgreSQL allows no more)."""
    return [
        f"CREATE TRIGGER {function}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def install_sql():
    """The functions and triggers (run by the migration on PostgreSQL)."""
    opportunity = _function("crm_funnel_opportunity", f"""
IF TG_OP = 'INSERT' THEN
  {_cells("new_rows", 1)};
  {_stays_of_opportunities("new_rows", 1)};
ELSIF TG_OP = 'DELETE' THEN
  {_cells("old_rows", -1)};
  {_stays_of_opportunities("old_rows", -1)};
ELSE
  {_cells(_CHANGED_OPPS.format(side="o"), -1)};
  {_cells(_CHANGED_OPPS.format(side="n"), 1)};
  {_stays_of_opportunities(_CHANGED_OPPS.format(side="o"), -1)};
  {_stays_of_opportunities(_CHANGED_OPPS.format(side="n"), 1)};
END IF;""")
    history = _function("crm_funnel_history", f"""
IF TG_OP = 'INSERT' THEN
  {_stays_of_history("new_rows", 1)};
ELSIF TG_OP = 'DELETE' THEN
  {_stays_of_history("old_rows", -1)};
ELSE
  {_stays_of_history(_CHANGED_STAYS.format(side="o"), -1)};
  {_stays_of_history(_CHANGED_STAYS.format(side="n"), 1)};
END IF;""")
    # A customer's territory and a stage's probability are read through a join: their (rare)
    # changes move the figures of the opportunities concerned. Row triggers with a WHEN clause
    # cost nothing for the customers' many other updates.
    of_customer = "r.customer_id = NEW.id"
    customer = _function("crm_funnel_customer", f"""
  {_cells(OPP, -1, of_customer, territory="OLD.territory_id")};
  {_cells(OPP, 1, of_customer, territory="NEW.territory_id")};
  {_stays_of_opportunities(OPP, -1, of_customer, territory="OLD.territory_id")};
  {_stays_of_opportunities(OPP, 1, of_customer, territory="NEW.territory_id")};""")
    stage = _function("crm_funnel_stage", f"""
  {_cells(OPP, 0, "r.stage_id = NEW.id AND r.probability IS NULL",
          weighted="SUM(r.amount * NEW.probability / 100) - SUM(r.amount * OLD.probability / 100)")};""")
    return [
        opportunity, history, customer, stage,
        *_statement_triggers(OPP, "crm_funnel_opportunity"),
        *_statement_triggers(HISTORY, "crm_funnel_history"),
        f"CREATE TRIGGER crm_funnel_customer AFTER UPDATE OF territory_id ON {CUSTOMER} FOR EACH ROW "
        f"WHEN (OLD.territory_id IS DISTINCT FROM NEW.territory_id) EXECUTE FUNCTION crm_funnel_customer()",
        f"CREATE TRIGGER crm_funnel_stage AFTER UPDATE OF probability ON {STAGE} FOR EACH ROW "
        f"WHEN (OLD.probability IS DISTINCT FROM NEW.probability) EXECUTE FUNCTION crm_funnel_stage()",
    ]


def uninstall_sql():
    return [
        *(f"DROP TRIGGER IF EXISTS crm_funnel_opportunity_{e} ON {OPP}" for e in ("ins", "upd", "del")),
        *(f"DROP TRIGGER IF EXISTS crm_funnel_history_{e} ON {HISTORY}" for e in ("ins", "upd", "del")),
        f"DROP TRIGGER IF EXISTS crm_funnel_customer ON {CUSTOMER}",
        f"DROP TRIGGER IF EXISTS crm_funnel_stage ON {STAGE}",
        *(f"DROP FUNCTION IF EXISTS {f}()" for f in ("crm_funnel_opportunity", "crm_funnel_history",
                                                   "crm_funnel_customer", "crm_funnel_stage")),
    ]


TRIGGER_TABLES = (OPP, HISTORY, CUSTOMER, STAGE)  # bulk loaders disable the triggers, then `rebuild`


def rebuild():
    """The summary from scratch (after a bulk load that ran without the triggers)."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {CELLS}, {STAYS} IN EXCLUSIVE MODE")
        cur.execute(f"TRUNCATE {CELLS}, {STAYS}")
        cur.execute(_cells(OPP, 1))
        cur.execute(_stays_of_opportunities(OPP, 1))
        cur.execute(f"ANALYZE {CELLS}, {STAYS}")  # the planner's estimates of an empty table would stay


def compact():
    """Merge the signed deltas into one row per grain (dropping grains left empty). Atomic: a
    reader sees the rows before or after; writers go on appending meanwhile."""
    if connection.vendor != "postgresql":
        return {}
    merged = {}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtext('crm_funnel_compact'))")
        if not cur.fetchone()[0]:
            return {}  # another compaction is running
        for table, grain, sums in ((CELLS, CELL_GRAIN, "SUM(n), SUM(amount), SUM(weighted)"),
                                   (STAYS, STAY_GRAIN, "SUM(n), SUM(seconds)")):
            measures = "n, amount, weighted" if table == CELLS else "n, seconds"
            cur.execute(f"""
                WITH gone AS (DELETE FROM {table} RETURNING *)
                INSERT INTO {table} ({grain}, {measures})
                SELECT {grain}, {sums} FROM gone GROUP BY {grain} HAVING SUM(n) <> 0""")
            merged[table] = cur.rowcount
        cur.execute(f"ANALYZE {CELLS}, {STAYS}")
    return merged


# --- Reading -------------------------------------------------------------------------------------

# The opportunity's fields the scope predicate may name, as the summary's columns.
SCOPE_COLUMNS = {"owner": "owner_id", "owner_id": "owner_id", "department": "department_id",
                 "department_id": "department_id"}


def _filters(params):
    """`reports.filtered`'s narrowing (`reports.narrowing`) on the summary; None for what it cannot
    answer: a search in the names, close dates that cut a month."""
    import datetime

    from .reports import narrowing, territory_subtree

    f = narrowing(params)
    if f["q"]:
        return None
    start, end = f["close_from"], f["close_to"]
    if (start and start.day != 1) or (end and (end + datetime.timedelta(days=1)).day != 1):
        return None
    q = Q()
    if start:
        q &= Q(month__gte=start)
    if end:
        q &= Q(month__lte=end.replace(day=1))
    if f["owner"] is not None:
        q &= Q(owner_id=f["owner"])
    if f["department"] is not None:
        q &= Q(department_id=f["department"])
    if f["territory"] is not None:
        q &= Q(territory_id__in=territory_subtree(f["territory"]))
    return q


def figures(user, pipeline, params):
    """The funnel's figures (the dict of `reports.figures`) from the summary, or None when it
    cannot answer: not PostgreSQL, a filter or a scope rule that reads the opportunities."""
    if connection.vendor != "postgresql":
        return None
    visible = scope.scope_q_on(user, Opportunity, "view", SCOPE_COLUMNS)
    narrow = _filters(params)
    if visible is None or narrow is None:
        return None
    cells = FunnelCell.objects.filter(visible, narrow, pipeline_id=pipeline.pk).values_list(
        "stage_id", "status", "reached_order", "month", "owner_id", "department_id", "territory_id", "n", "amount",
        "weighted")
    stays = FunnelStays.objects.filter(visible, narrow, pipeline_id=pipeline.pk).values_list("stage_id", "n", "seconds")
    from .reports import DAYS, collect, grouping_sql

    try:
        cells_sql, cells_params = cells.query.sql_with_params()
        stays_sql, stays_params = stays.query.sql_with_params()
    except EmptyResultSet:  # the predicate admits nothing (no grant)
        return collect([])

    grouping, sets = grouping_sql("v.territory_id")
    sql = f"""
        SELECT {grouping},
               v.status, v.stage_id, v.month, v.owner_id, v.department_id, v.reached_order, v.territory_id,
               SUM(v.n)::bigint, SUM(v.amount), SUM(v.weighted)
        FROM ({cells_sql}) v (stage_id, status, reached_order, month, owner_id, department_id, territory_id, n,
                              amount, weighted)
        {sets}
        HAVING SUM(v.n) <> 0
        UNION ALL
        SELECT {DAYS}, NULL, h.stage_id, NULL, NULL, NULL, NULL, NULL, SUM(h.n)::bigint, SUM(h.seconds)::bigint, NULL
        FROM ({stays_sql}) h (stage_id, n, seconds)
        GROUP BY h.stage_id
        HAVING SUM(h.n) <> 0"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cells_params, *stays_params])
        return collect(cursor.fetchall())
