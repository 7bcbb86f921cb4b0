"""The owner picker of transfers loads employees as the user types (issue #3: a list page no
longer renders every employee)."""

from crm.core.access.levels import Scope
from crm.core.testing.clients import browser
from crm.core.testing.org import make_user


def test_picker_finds_active_employees_only(rep, manager, depts):
    make_user("wangfang", depts["sales1"], name="王芳")
    make_user("wangqiang", depts["south"], name="王强", is_active=False)
    found = browser(manager).get("/customers/assignees/", {"q": "王"}).json()["results"]
    assert [r["text"] for r in found] == [f"王芳 · {depts['sales1']}"]
    everyone = browser(manager).get("/customers/assignees/").json()["results"]
    assert {r["text"].split(" · ")[0] for r in everyone} >= {"Rep", "Manager", "王芳"}


def test_picker_needs_the_assign_permission(depts):
    viewer = make_user("viewer", depts["sales1"], {("customers", "view"): Scope.ALL})
    assert browser(viewer).get("/customers/assignees/", {"q": "a"}).status_code == 403


def test_list_page_no_longer_renders_every_employee(manager, depts):
    for i in range(30):
        make_user(f"seller{i}", depts["sales1"], name=f"销售{i:02d}")
    page = browser(manager).get("/customers/").content.decode()
    assert "/customers/assignees/" in page  # the bulk transfer picker loads from the lookup
    assert "销售29" not in page
