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
    """Per entity the user may view: the first 21 matches by last change. Text fields match the
    term anywhere; masked phone fields match by their last digits when the term is digits."""
    like = _like(ctx)
    pattern = f"%{q}%"
    digits = q.replace(" ", "").replace("-", "")
    tail = f"%{digits}" if digits.isdigit() and len(digits) >= 3 else None
    scope_c, scope_params = _scope("c", ctx)
    scope_k, _same = _scope("k", ctx)

    def cond(alias, texts, phones):
        parts = [f"{alias}.{f} {like} %s" for f in texts]
        params = [pattern] * len(texts)
        if tail:
            parts += [f"{alias}.{f} LIKE %s" for f in phones]
            params += [tail] * len(phones)
        return "(" + " OR ".join(parts) + ")", params

    c_cond, c_params = cond("c", ["name", "mnemonic_code", "code", "email"], ["phone"])
    k_cond, k_params = cond("k", ["name", "email"], ["mobile"])
    u_cond, u_params = cond("u", ["name", "username", "code", "email"], ["mobile"])
    d_cond, d_params = cond("d", ["name", "code"], [])
    r_cond, r_params = cond("r", ["name"], [])
    limit = per_entity + 1
    queries = [
        (f"""SELECT c.id, c.code, c.name, c.level, c.status, c.updated_at FROM customers_customer c
             WHERE c.deleted_at IS NULL AND {scope_c} AND {c_cond} ORDER BY c.updated_at DESC, c.id DESC LIMIT {limit}""",
         [*scope_params, *c_params]),
        (f"""SELECT k.id, k.name, p.name, k.title FROM customers_contact k JOIN customers_customer p ON p.id = k.customer_id
             WHERE k.deleted_at IS NULL AND {scope_k} AND {k_cond} ORDER BY k.updated_at DESC, k.id DESC LIMIT {limit}""",
         [*scope_params, *k_params]),
        (f"""SELECT u.id, u.username, u.name, u.code FROM org_user u WHERE {u_cond}
             ORDER BY u.updated_at DESC, u.id DESC LIMIT {limit}""", u_params),
        (f"""SELECT d.id, d.name, d.code FROM org_department d WHERE {d_cond}
             ORDER BY d.updated_at DESC, d.id DESC LIMIT {limit}""", d_params),
        (f"""SELECT r.id, r.name FROM core_role r WHERE {r_cond}
             ORDER BY r.updated_at DESC, r.id DESC LIMIT {limit}""", r_params),
    ]

    def run(cursor, i):
        return sum(len(_fetch(cursor, sql, params)[:per_entity]) for sql, params in queries)

    return run
