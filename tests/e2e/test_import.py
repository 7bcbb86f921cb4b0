"""Import in a real browser (INT-4): upload a CSV from the customer list, check the automatic
column mapping, dry-run (errors per row, nothing saved), import in a real background worker with
the progress bar polling, and download the error report."""

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROWS = 2500


@pytest.fixture
def importer():
    depts = make_tree()
    return make_user("importer", depts["sales1"], {"customers": Scope.OWN}, name="Ida Importer")


def _database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker():
    """`manage.py db_worker` on the live server's database, as `crmctl up` runs it."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "crm.settings",
           "CRM_VAR_DIR": str(settings.VAR_DIR)}
    proc = subprocess.Popen([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "db_worker", "--interval", "0.2",
                             "--no-startup-delay", "--no-reload", "--skip-checks"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def make_file(path):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "客户级别", "公司电话", "城市", "备注栏"])
        for i in range(ROWS):
            w.writerow([f"浏览器导入客户{i:05d}", "重要客户" if i % 2 else "普通客户", f"139{i:08d}", "苏州", ""])
        w.writerow(["坏级别客户", "钻石客户", "", "苏州", ""])  # not in the pick list
    return path


def test_import_with_mapping_dry_run_and_progress(ui, importer, worker, tmp_path):
    page = ui.page
    ui.login("importer")
    ui.go("/customers/")
    with page.expect_navigation():
        page.click("[data-testid=import]")
    assert re.search(r"/customers/import/$", page.url)
    page.set_input_files("#id_file", str(make_file(tmp_path / "客户.csv")))
    with page.expect_navigation():
        page.click("[data-testid=upload]")
    assert re.search(r"/imports/\d+/$", page.url)

    # Columns matched by their Chinese labels; the unknown one is ignored.
    assert page.locator("select[data-header=客户名称]").input_value() == "name"
    assert page.locator("select[data-header=客户级别]").input_value() == "level"
    assert page.locator("select[data-header=公司电话]").input_value() == "phone"
    assert page.locator("select[data-header=备注栏]").input_value() == ""

    # Dry run: errors per row, nothing saved.
    with page.expect_navigation():
        page.click("[data-testid=dry-run]")
    page.wait_for_selector("[data-testid=import-progress][data-status=checked]", timeout=180_000)
    assert page.locator("[data-testid=created]").inner_text() == str(ROWS)
    assert page.locator("[data-testid=errors]").inner_text() == "1"
    assert "钻石客户" in page.locator("[data-testid=row-errors]").inner_text()
    assert Customer.objects.count() == 0

    # The real import: the progress bar polls until the worker is done.
    with page.expect_navigation():
        page.click("[data-testid=run]")
    assert page.locator("[data-testid=import-progress] .progress-bar").count() == 1
    page.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=180_000)
    assert page.locator(".progress-bar").inner_text() == "100%"
    assert page.locator("[data-testid=created]").inner_text() == str(ROWS)
    assert Customer.objects.filter(owner=importer).count() == ROWS
    assert Customer.objects.get(name="浏览器导入客户00001").level == "important"

    with page.expect_download() as download:
        page.click("[data-testid=error-report]")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "坏级别客户" and "钻石客户" in rows[1][-1]
    ui.log.assert_clean()
