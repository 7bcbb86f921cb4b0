"""The floor of each scenario: the SQL a person would write by hand to fetch what the page shows,
with the same scope predicate, run on the same database through a plain cursor.

Each builder returns `run(cursor, i) -> rows`; the runner times it exactly like a request.
`i` is the run number, for scenarios that rotate over several records.
"""

PAGE = 25


def _scope(alias, ctx):
    marks = ", ".join(["%s"] * len(ctx.departments))
    return f"({alias}.department_id IN ({marks}) OR {alias}.owner_id = %s)", [*ctx.departments, ctx.user.pk]


def _like(ctx):
    return "ILIKE" if ctx.vendor == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case


def _fetch(cursor, sql, params):
    cursor.execute(sql, params)
    return cursor.fetchall()


def list_page(ctx, deep):
    """The visible columns of one keyset page: code, name, level, status, city, phone, owner,
    updated at; the deep page starts after (name, id) of the middle row."""
    scope, params = _scope("c", ctx)
    after, after_params = "", []
    if deep and ctx.deep_key:
        after, after_params = "AND (c.name, c.id) > (%s, %s)", list(ctx.deep_key)
    sql = f"""
        SELECT c.id, c.code, c.name, c.level, c.status, c.city, c.phone, c.updated_at, u.name, u.username
        FROM customers_customer c LEFT JOIN org_user u ON u.id = c.owner_id
        WHERE c.deleted_at IS NULL AND {scope} AND c.status = %s {after}
        ORDER BY c.name, c.id LIMIT {PAGE + 1}"""
    args = [*params, ctx.filter["status"], *after_params]

    def run(cursor, i):
        return len(_fetch(cursor, sql, args)[:PAGE])

    return run


def api_page(ctx, deep):
    """Every column of one keyset page (the API returns ids for relations), plus its tags."""
    scope, params = _scope("c", ctx)
    after, after_params = "", []
    if deep and ctx.deep_key:
        after, after_params = "AND (c.name, c.id) > (%s, %s)", list(ctx.deep_key)
    sql = f"""
        SELECT c.* FROM customers_customer c
        WHERE c.deleted_at IS NULL AND {scope} AND c.status = %s {after}
        ORDER BY c.name, c.id LIMIT {PAGE + 1}"""
    args = [*params, ctx.filter["status"], *after_params]

    def run(cursor, i):
        rows = _fetch(cursor, sql, args)[:PAGE]
        if rows:
            ids = [r[0] for r in rows]
            marks = ", ".join(["%s"] * len(ids))
            _fetch(cursor, f"SELECT ct.customer_id, t.name FROM customers_customer_tags ct "
                           f"JOIN core_tag t ON t.id = ct.tag_id WHERE ct.customer_id IN ({marks})", ids)
        return len(rows)

    return run


def detail_page(ctx):
    """The customer with owner, department and parent names; its first 20 contacts and child
    companies; the latest 50 notes and audit entries of its timeline."""
    scope_c, scope_params = _scope("c", ctx)
    scope_k, _same = _scope("k", ctx)
    customer = f"""
        SELECT c.*, u.name, d.name, p.name FROM customers_customer c
        LEFT JOIN org_user u ON u.id = c.owner_id LEFT JOIN org_department d ON d.id = c.department_id
        LEFT JOIN customers_customer p ON p.id = c.parent_id
        WHERE c.id = %s AND c.deleted_at IS NULL AND {scope_c}"""
    contacts = f"""
        SELECT k.id, k.name, k.title, k.mobile, k.email, k.is_primary FROM customers_contact k
        WHERE k.customer_id = %s AND k.deleted_at IS NULL AND {scope_k}
        ORDER BY k.is_primary DESC, k.name, k.id LIMIT 21"""
    children = f"""
        SELECT c.id, c.name, c.code, c.city, u.name FROM customers_customer c LEFT JOIN org_user u ON u.id = c.owner_id
        WHERE c.parent_id = %s AND c.deleted_at IS NULL AND {scope_c}
        ORDER BY c.name, c.id LIMIT 21"""
    notes = """
        SELECT n.id, n.body, n.created_at, u.name FROM core_note n LEFT JOIN org_user u ON u.id = n.author_id
        WHERE n.content_type_id = %s AND n.object_id = %s ORDER BY n.created_at DESC, n.id DESC LIMIT 50"""
    audit = """
        SELECT a.id, a.action, a.at, a.changes, u.name FROM core_auditentry a LEFT JOIN org_user u ON u.id = a.actor_id
        WHERE a.content_type_id = %s AND a.object_id = %s AND a.action <> 'reveal' ORDER BY a.at DESC, a.id DESC LIMIT 50"""

    def run(cursor, i):
        pk = ctx.detail_ids[i % len(ctx.detail_ids)]
        rows = len(_fetch(cursor, customer, [pk, *scope_params]))
        rows += len(_fetch(cursor, contacts, [pk, *scope_params])[:20])
        rows += len(_fetch(cursor, children, [pk, *scope_params])[:20])
        rows += len(_fetch(cursor, notes, [ctx.customer_ct, pk]))
        rows += len(_fetch(cursor, audit, [ctx.customer_ct, pk]))
        return rows

    return run


def search(ctx, q, per_entity=20):
    """Per entity the user may view, as a person would write it against the search index
    (crm/core/search): the matching entries whose record is in the user's scope, exact and prefix
    matches first, newest first, 21 at most; then those records' shown columns. Text of 3+
    characters is a substring (trigram index / FTS5), 2 characters a bigram token, a phone tail
    the t<digits> token (five or more digits: any run of them for someone who may reveal phones)."""
    from django.contrib.contenttypes.models import ContentType

    from crm.core.access.scope import Scope, has_special, scope_level
    from crm.core.search.index import searchable_specs
    from crm.core.search.text import normalise

    text = normalise(q)
    digits = q.replace(" ", "").replace("-", "")
    phone_digits = digits if digits.isdigit() and len(digits) >= 3 else None
    reveal = has_special(ctx.user, "reveal_phone")
    pg = ctx.vendor == "postgresql"
    queries = []
    for spec in searchable_specs():
        level = scope_level(ctx.user, spec.key, "view")
        if level == Scope.NONE:
            continue
        table = spec.model._meta.db_table
        conds, params = [], []
        if len(text) >= 3:
            if pg:
                conds.append("e.text LIKE %s")
                params.append(f"%{text}%")
            else:
                conds.append("e.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)")
                params.append(f'text : "{text}"')
        elif len(text) == 2:
            conds.append("string_to_array(e.grams, ' ') @> ARRAY[%s]::text[]" if pg
                         else "e.id IN (SELECT rowid FROM search_fts_grams WHERE search_fts_grams MATCH %s)")
            params.append(text if pg else f'"{text}"')
        if phone_digits and spec.masked_fields.keys() & set(spec.search_fields):
            if len(phone_digits) <= 4:  # a tail (尾号), for everyone
                conds.append("string_to_array(e.grams, ' ') @> ARRAY[%s]::text[]" if pg
                             else "e.id IN (SELECT rowid FROM search_fts_grams WHERE search_fts_grams MATCH %s)")
                params.append(f"t{phone_digits}" if pg else f'"t{phone_digits}"')
            elif reveal:
                conds.append("e.phones LIKE %s" if pg else "e.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)")
                params.append(f"%{phone_digits}%" if pg else f'phones : "{phone_digits}"')
        if not conds:
            continue
        visible = f"SELECT r.id FROM {table} r WHERE TRUE"
        visible_params = []
        if spec.soft_delete:
            visible += " AND r.deleted_at IS NULL"
        if level != Scope.ALL and spec.key in ("customers", "contacts", "leads", "opportunities"):
            scope, visible_params = _scope("r", ctx)
            visible += f" AND {scope}"
        ct = ContentType.objects.get_for_model(spec.model).pk
        sql = f"""
            SELECT e.object_id FROM search_searchentry e
            WHERE e.id IN (SELECT e.id FROM search_searchentry e WHERE e.content_type_id = %s AND ({' OR '.join(conds)})
                           AND e.object_id IN ({visible}) LIMIT 500)
            ORDER BY CASE WHEN e.key = %s OR e.abbr = %s THEN 0 WHEN e.key LIKE %s OR e.abbr LIKE %s THEN 1 ELSE 2 END,
                     e.updated_at DESC, e.object_id DESC LIMIT {per_entity + 1}"""
        args = [ct, *params, *visible_params, text, text, f"{text}%", f"{text}%"]
        cols = ", ".join(f"r.{c}" for c in ("id", *[n for n in (spec.default_columns or spec.list_columns)[:4]
                                                    if n in {f.name for f in spec.model._meta.concrete_fields}
                                                    and not spec.model._meta.get_field(n).is_relation]))
        queries.append((sql, args, f"SELECT {cols} FROM {table} r WHERE r.id IN "))

    def run(cursor, i):
        rows = 0
        for sql, params, fetch in queries:
            ids = [r[0] for r in _fetch(cursor, sql, params)][:per_entity]
            if ids:
                rows += len(_fetch(cursor, fetch + "(" + ", ".join(["%s"] * len(ids)) + ")", ids))
        return rows

    return run
