"""The benchmark harness end to end at the tiny scale (1/10 000 of large) on the test database:
load, every scenario through the real stack, its floor, the report. Checks the harness works,
not timings."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import SCALES, generator, report, runner


@pytest.fixture
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_bench_tiny_end_to_end(fast_hashing, tmp_path):
    scale = SCALES["tiny"]
    loaded = generator.load(scale, quiet=True, verify=20)
    assert loaded["rows"]["customers_customer"] == scale.customers == 100
    assert loaded["rows"]["customers_contact"] == 2 * scale.customers
    assert loaded["verified_rows"] > 20
    if connection.vendor == "postgresql":  # the funnel's summary, rebuilt after the load without its triggers
        from crm.org.models import User
        from crm.sales import funnel_summary, reports
        from crm.sales.models import Pipeline

        user, pipeline = User.objects.get(username="shmgr"), Pipeline.objects.get(is_default=True)
        assert funnel_summary.figures(user, pipeline, {}) == reports.figures(
            reports.filtered(user, pipeline, {}), pipeline)

    result = runner.run(scale, runs=2, warmup=1, log=lambda msg: None)
    keys = {s["key"] for s in result["scenarios"]}
    assert keys == {"list_html_first", "list_html_deep", "list_api_first", "list_api_deep", "customer_360",
                    "search_chinese", "search_initials", "search_phone", "kanban", "kanban_all", "funnel",
                    "pool_claim"}
    for s in result["scenarios"]:
        assert s["app"]["runs"] == 2 and s["app"]["p95_ms"] > 0, s["key"]
        assert s["app"]["queries"] > 0, s["key"]
        assert s["app"]["rows"] > 0, s["key"]
        assert s["floor"]["p95_ms"] > 0 and s["floor"]["rows"] > 0, s["key"]
        assert s["ratio_p95"] > 0, s["key"]
    assert 0.1 < result["user"]["share"] < 0.25  # the branch holds about 1/6 of the data
    assert result["peak_memory_mb"] > 0

    md_path, json_path, md = report.write(result, tmp_path)
    assert "| Customer 360° page" in md
    assert json.loads(json_path.read_text())["scale"] == "tiny"


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["name", "-name"])
def test_keyset_pages_walk_every_row_once_and_start_from_an_index_bound(sort):
    """Found by the benchmark: a page after a cursor must bound the sort column plainly
    (`name >= value`), which an index scan can start from; ties on the value go by id."""
    from crm.core.entities.registry import get_spec
    from crm.core.ui.pagination import keyset_page
    from crm.customers.models import Customer

    Customer.objects.bulk_create([Customer(name=f"N{i // 3}") for i in range(10)])  # names repeat
    spec = get_spec(Customer)
    qs = Customer.objects.all()
    seen, cursor, pages = [], None, []
    while True:
        page = keyset_page(qs, spec, sort, cursor, size=3)
        seen += [c.pk for c in page.rows]
        pages.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    expected = list(qs.order_by(*(["-name", "-pk"] if sort.startswith("-") else ["name", "pk"])).values_list("pk", flat=True))
    assert seen == expected
    back = keyset_page(qs, spec, sort, pages[-1].prev_cursor, size=3)  # and back again
    assert [c.pk for c in back.rows] == [c.pk for c in pages[-2].rows]

    with CaptureQueriesContext(connection) as ctx:
        keyset_page(qs, spec, sort, pages[0].next_cursor, size=3)
    bound = '"customers_customer"."name" ' + (">=" if sort == "name" else "<=")
    assert bound in ctx.captured_queries[-1]["sql"]
