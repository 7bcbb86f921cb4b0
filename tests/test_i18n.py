"""UX-1: the UI speaks Simplified Chinese (default) and English.

(a) every entry of the zh_Hans catalogue is translated, not fuzzy, and keeps its placeholders;
(b) the catalogue is complete: `makemessages` over a copy of the source finds no new msgid;
(c) pages render in Chinese by default and in English on request.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.test import Client, override_settings

from crm.core.testing.org import make_tree, make_user

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "crm" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MAKEMESSAGES_OPTIONS = ["--ignore=.venv", "--ignore=node_modules", "--ignore=var", "--ignore=tests", "--no-obsolete"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

PLACEHOLDER = re.compile(r"%\([^)]+\)[sdifr]|%[sdifr]")


def placeholders(text):
    return sorted(PLACEHOLDER.findall((text or "").replace("%%", "")))


def key(entry):
    return (entry.msgctxt, entry.msgid)


@pytest.fixture(scope="module")
def catalogue():
    assert PO_PATH.exists(), "run makemessages -l zh_Hans (see docs) to create the catalogue"
    return polib.pofile(str(PO_PATH))


# --- (a) translated, not fuzzy, same placeholders -------------------------------------------


def test_catalogue_header(catalogue):
    assert catalogue.metadata["Language"] == "zh_Hans"
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]
    assert catalogue.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert not catalogue.metadata_is_fuzzy


def test_every_entry_is_translated_and_not_fuzzy(catalogue):
    entries = [e for e in catalogue if not e.obsolete]
    assert len(entries) > 100
    untranslated = [e.msgid for e in entries if not e.translated()]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    empty = [
        e.msgid for e in entries
        if (e.msgid_plural and not all(v.strip() for v in e.msgstr_plural.values()))
        or (not e.msgid_plural and not e.msgstr.strip())
    ]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not empty, f"empty: {empty}"


def test_plural_entries_fill_the_one_chinese_form(catalogue):
    for e in catalogue:
        if e.msgid_plural:
            assert set(e.msgstr_plural) == {0}, e.msgid


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for e in catalogue:
        if e.obsolete:
            continue
        if e.msgid_plural:
            # Chinese has one form; it must carry the placeholders of the plural msgid.
            expected = placeholders(e.msgid_plural)
            got = [placeholders(v) for v in e.msgstr_plural.values()]
            if any(g != expected for g in got):
                wrong.append((e.msgid, expected, got))
        elif placeholders(e.msgstr) != placeholders(e.msgid):
            wrong.append((e.msgid, placeholders(e.msgid), placeholders(e.msgstr)))
    assert not wrong, f"placeholders differ: {wrong}"


def test_no_entry_is_left_in_english(catalogue):
    """A msgstr equal to its msgid is allowed only for product names and codes."""
    allowed = {"CRM"}
    same = [e.msgid for e in catalogue if not e.msgid_plural and e.msgstr == e.msgid and e.msgid not in allowed]
    assert not same, f"not translated into Chinese: {same}"


# --- (b) complete: makemessages over a copy of the source adds nothing ----------------------


def _copy_ignore(directory, names):
    skip = {".git", ".venv", "node_modules", "var", "tests", "__pycache__", ".pytest_cache", "test-results",
            "vendor", "build"}
    return [n for n in names if n in skip or n.endswith((".mo", ".pyc", ".egg-info", ".sqlite3"))]


def test_catalogue_has_every_msgid_of_the_source(tmp_path, catalogue):
    missing_tools = [t for t in GETTEXT_TOOLS if shutil.which(t) is None]
    if missing_tools:
        pytest.skip(f"GNU gettext is not installed (missing {', '.join(missing_tools)}); cannot run makemessages")
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=_copy_ignore)
    copied_po = copy / PO_PATH.relative_to(ROOT)
    assert copied_po.exists()
    before = PO_PATH.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings",  # the copy's settings: LOCALE_PATHS point into the copy
        PYTHONPATH=str(copy),
        CRM_VAR_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", *MAKEMESSAGES_OPTIONS],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert PO_PATH.read_bytes() == before, "makemessages must run on the copy, not on the repository"
    fresh = polib.pofile(str(copied_po))
    committed = {key(e) for e in catalogue if not e.obsolete}
    missing = sorted({key(e) for e in fresh if not e.obsolete} - committed, key=str)
    assert not missing, (
        "msgids missing from crm/locale/zh_Hans/LC_MESSAGES/django.po (run makemessages and translate them): "
        f"{missing}"
    )


# --- (c) pages render in Chinese by default and in English on request -----------------------


@pytest.fixture
def compiled_locale(tmp_path, catalogue):
    """The committed catalogue compiled as scripts/build_assets.py does, so the test does not
    depend on a possibly stale .mo file in the working tree."""
    target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    catalogue.save_as_mofile(str(target / "django.mo"))
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        yield


@pytest.fixture
def boss(db):
    depts = make_tree()
    return make_user("boss", depts["hq"], is_superuser=True, is_staff=True, name="Boss")


def text(response):
    assert response.status_code == 200
    return response.content.decode()


LOGIN_ZH = ["登录", "用户名", "密码", "忘记密码？"]
LOGIN_EN = ["Log in", "User name", "Password", "Forgot your password?"]
CUSTOMERS_ZH = ["客户", "新建客户", "导出 CSV", "回收站", "筛选条件、显示列和视图", "负责人", "首页", "退出登录"]
CUSTOMERS_EN = ["Customers", "Export CSV", "Recycle bin", "Filters, columns and views", "Owner", "Home", "Log out"]


def test_login_page_is_chinese_by_default(compiled_locale, db):
    html = text(Client().get("/login/"))
    assert 'lang="zh-hans"' in html
    for s in LOGIN_ZH:
        assert s in html
    for s in ("Log in", "User name", "Forgot your password?"):
        assert s not in html


def test_login_page_in_english_by_accept_language(compiled_locale, db):
    html = text(Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/"))
    assert 'lang="en"' in html
    for s in LOGIN_EN:
        assert s in html
    assert "忘记密码" not in html


def test_customers_list_in_chinese(compiled_locale, boss):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(boss)
    html = text(client.get("/customers/"))
    for s in CUSTOMERS_ZH:
        assert s in html, s
    for s in ("Export CSV", "Recycle bin", "Filters, columns and views", "Log out"):
        assert s not in html, s


def test_customers_list_in_english_by_cookie(compiled_locale, boss):
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(boss)
    html = text(client.get("/customers/"))
    for s in CUSTOMERS_EN:
        assert s in html, s
    assert "回收站" not in html


def test_messages_and_choices_follow_the_language(compiled_locale, boss):
    """Python-side strings (choice labels, validation errors) are translated too."""
    client = Client()
    client.force_login(boss)
    html = text(client.get("/customers/new/"))
    assert "统一社会信用代码" in html and "助记码" in html and "信用额度" in html
    assert "潜在客户" in html  # a status choice
    response = client.post("/customers/new/", {"name": "", "credit_code": "123"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "统一社会信用代码由 18 位数字和大写字母组成" in body


def test_generated_labels_are_translated(compiled_locale, boss):
    """Labels the kernel builds itself: permission-matrix actions, reverse relations, lookups."""
    from crm.core.access.models import Role

    role = Role.objects.create(name="销售代表")
    client = Client()
    client.force_login(boss)
    html = text(client.get(f"/roles/{role.pk}/permissions/"))
    assert "<th>查看</th>" in html and "<th>分配</th>" in html
    assert 'aria-label="客户 查看"' in html
    html = text(client.get(f"/employees/{boss.pk}/"))
    assert ">角色</dt>" in html and ">Roles<" not in html
    html = text(client.get("/employees/"))
    assert 'for="id_roles">角色</label>' in html
    html = text(client.get("/customers/"))
    assert "名称 包含" in html  # django-filter's "contains", translated in our catalogue
