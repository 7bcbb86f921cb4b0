"""The OpenAPI contract (INT-1): docs/openapi.yaml is generated, committed and must match the
code; every API response in the tests is validated against it (the `api` fixture)."""

import difflib

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from drf_spectacular.drainage import GENERATOR_STATS

from crm.core.testing.openapi import REGENERATE, SCHEMA_FILE, ContractError, check_response

pytestmark = pytest.mark.django_db


def test_committed_schema_matches_the_code(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(fresh), validate=True)
    committed = SCHEMA_FILE.read_text(encoding="utf-8").splitlines()
    generated = fresh.read_text(encoding="utf-8").splitlines()
    if committed != generated:
        diff = list(difflib.unified_diff(committed, generated, "docs/openapi.yaml (committed)",
                                         "generated from the code", lineterm="", n=2))
        shown = "\n".join(diff[:150]) + (f"\n... {len(diff) - 150} more diff lines" if len(diff) > 150 else "")
        pytest.fail(f"docs/openapi.yaml is out of date. Review the change and regenerate it:\n\n"
                    f"    {REGENERATE}\n\n{shown}", pytrace=False)


def test_schema_generates_without_warnings(tmp_path):
    silent = GENERATOR_STATS.silent
    GENERATOR_STATS.reset()
    GENERATOR_STATS.silent = False  # settings silence drf-spectacular; the contract must not need it
    try:
        call_command("spectacular", file=str(tmp_path / "openapi.yaml"))
        problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    finally:
        GENERATOR_STATS.silent = silent
        GENERATOR_STATS.reset()
    assert not problems, "drf-spectacular warnings:\n" + "\n".join(problems)


def test_errors_come_in_the_documented_format(api):
    response = api.get("/api/v1/customers/")  # not authenticated; validated by the fixture
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


def test_an_undocumented_status_code_fails(api, admin):
    api.as_user(admin)
    with pytest.raises(ContractError, match="405"):
        api.put("/api/v1/customers/1/", {"name": "x"})  # PUT is not offered, so 405 is not documented

    response = api.get("/api/v1/customers/")
    assert response.status_code == 200
    response.status_code = 418
    with pytest.raises(ContractError, match="418"):
        check_response(response)


def test_a_body_of_the_wrong_shape_fails(api, admin):
    api.as_user(admin)
    real = api.get("/api/v1/customers/")
    for body, problem in ((b'{"results": [{"id": "one"}]}', "results"),
                          (b'{"next": null, "previous": null, "results": [], "total": 3}', "total")):
        wrong = HttpResponse(body, content_type="application/json", status=200)
        wrong.wsgi_request = real.wsgi_request
        with pytest.raises(ContractError, match=problem):  # wrong type / undocumented property
            check_response(wrong)
