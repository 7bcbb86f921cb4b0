"""The benchmark harness end to end at the tiny scale (1/10 000 of large) on the test database:
load, every scenario through the real stack, its floor, the report. Checks the harness works,
not timings."""

import json

import pytest

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

    result = runner.run(scale, runs=2, warmup=1, log=lambda msg: None)
    keys = {s["key"] for s in result["scenarios"]}
    assert keys == {"list_html_first", "list_html_deep", "list_api_first", "list_api_deep", "customer_360",
                    "search_chinese", "search_initials", "search_phone"}
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
