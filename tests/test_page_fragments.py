"""Parts of pages rendered once per process (issue #3, UX-4: `crm.core.ui.fragments`, the side
menu, the top bar, the list's rows): each user still sees their own menu, name, CSRF token and
bell; a change of roles, language or menu entries shows on the very next request."""

import datetime
import decimal
import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.template import Context, Template
from django.utils.safestring import mark_safe
from django.utils.translation import override

from crm.core.access.models import Role, RoleGrant
from crm.core.notifications.services import notify
from crm.core.testing.clients import browser
from crm.core.testing.org import Scope, make_user
from crm.core.ui import menu as menu_module
from crm.core.ui.table import rows_html

MENU = re.compile(r'data-menu="([\w-]+)"')


def menu_keys(response):
    return set(MENU.findall(response.content.decode()))


def csrf_tokens(html):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html) + re.findall(
        r'name="csrf-token" content="([^"]+)"', html)


@pytest.fixture
def viewer(depts):
    return make_user("viewer", depts["sales1"], {("customers", "view"): Scope.OWN}, name="Viewer Vera")


def test_each_user_sees_their_own_menu_name_and_token(admin, viewer):
    ui_admin, ui_viewer = browser(admin), browser(viewer)
    for _ in range(2):  # the second round is served from the fragments the first one rendered
        a, v = ui_admin.get("/customers/"), ui_viewer.get("/customers/")
        assert "customers" in menu_keys(v) and not {"contacts", "employees"} & menu_keys(v)
        assert {"customers", "contacts", "employees"} | menu_keys(v) <= menu_keys(a)
        html_a, html_v = a.content.decode(), v.content.decode()
        assert "Viewer Vera" in html_v and "Viewer Vera" not in html_a
        assert str(admin) in html_a
        # Every CSRF token on a page is its own session's.
        for client, html in ((ui_admin, html_a), (ui_viewer, html_v)):
            tokens = csrf_tokens(html)
            assert len(tokens) >= 3  # the page's meta tag, the language switch, log out, the list's forms
            assert {_unmask_cipher_token(t) for t in tokens} == {client.cookies["csrftoken"].value}
        assert ui_admin.cookies["csrftoken"].value != ui_viewer.cookies["csrftoken"].value


def test_a_grant_shows_in_the_menu_on_the_next_request_and_goes_with_the_role(viewer):
    ui = browser(viewer)
    assert "contacts" not in menu_keys(ui.get("/"))
    role = Role.objects.create(name="Contacts reader")
    RoleGrant.objects.create(role=role, entity="contacts", action="view", scope=Scope.OWN)
    role.members.add(viewer)
    assert "contacts" in menu_keys(ui.get("/"))
    role.members.remove(viewer)
    assert "contacts" not in menu_keys(ui.get("/"))


def test_the_language_switch_shows_on_the_next_request(viewer):
    ui = browser(viewer, lang="zh-hans")
    html = ui.get("/customers/").content.decode()
    assert " 客户</a>" in html and " Customers</a>" not in html
    assert "我的账号" in html and "My account" not in html  # the top bar
    assert 'data-testid="lang-en"' in html and 'data-testid="lang-zh-hans"' not in html
    ui.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = ui.get("/customers/").content.decode()
    assert " Customers</a>" in html and " 客户</a>" not in html
    assert 'data-testid="lang-zh-hans"' in html and 'data-testid="lang-en"' not in html
    assert "My account" in html and "我的账号" not in html


def test_a_new_menu_entry_shows_on_the_next_request(viewer):
    ui = browser(viewer)
    assert "api-docs" not in menu_keys(ui.get("/"))
    menu_module.add_menu_item("work", "API reference", "api-docs", icon="book", entity="customers")
    try:
        assert "api-docs" in menu_keys(ui.get("/"))
    finally:
        menu_module.EXTRA_ITEMS.pop()
    assert "api-docs" not in menu_keys(ui.get("/"))


def test_the_current_page_is_marked_in_the_menu(admin):
    ui = browser(admin)
    active = re.compile(r'class="nav-link active" href="([^"]+)"')
    assert active.findall(ui.get("/customers/").content.decode()) == ["/customers/"]
    assert active.findall(ui.get("/contacts/").content.decode()) == ["/contacts/"]
    assert active.findall(ui.get("/").content.decode()) == []


def test_the_bell_and_the_search_box_are_per_request(admin, viewer):
    ui = browser(viewer)
    assert 'data-unread="0"' in ui.get("/").content.decode()
    notify([viewer], "mention", "Hello")
    assert 'data-unread="1"' in ui.get("/").content.decode()
    assert 'data-unread="0"' in browser(admin).get("/").content.decode()
    assert 'id="global-search" value="acme &lt;b&gt;"' in ui.get("/search/", {"q": "acme <b>"}).content.decode()
    assert 'id="global-search" value=""' in ui.get("/").content.decode()


def test_a_fragment_shows_only_the_values_it_names():
    template = Template('{% load fragments %}{% fragment "t" a %}[{{ a }}|{{ b }}|{{ user }}]{% endfragment %}')
    assert template.render(Context({"a": 1, "b": "secret", "user": "Ann"})) == "[1||]"
    assert template.render(Context({"a": 2, "b": "other", "user": "Bob"})) == "[2||]"
    assert template.render(Context({"a": 1})) == "[1||]"
    other = Template('{% load fragments %}{% fragment "t" a %}({{ a }}){% endfragment %}')  # same name, other template
    assert other.render(Context({"a": 1})) == "(1)"
    with override("zh-hans"):
        translated = Template('{% load fragments i18n %}{% fragment "t" %}{% translate "Customers" %}{% endfragment %}')
        assert translated.render(Context()) == "客户管理"
    with override("en"):
        assert translated.render(Context()) == "Customers"


class Record:
    def __init__(self, pk):
        self.pk = pk


# What crm/entity/_table.html rendered per row before the rows were built in Python.
OLD_ROWS = Template("""{% load i18n %}{% for obj, link, values in rows %}
      <tr>
        <td class="crm-check"><input type="checkbox" class="form-check-input" name="ids" value="{{ obj.pk }}" aria-label="{% translate 'Select' %}"></td>
        {% for v in values %}<td>{% if forloop.first %}<a href="{{ link }}">{{ v|default:"—" }}</a>{% else %}{{ v }}{% endif %}</td>{% endfor %}
      </tr>
    {% endfor %}""")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_list_rows_are_the_markup_the_template_wrote(lang):
    rows = [
        (Record(1), "/customers/1/", ["C0001", "Acme <Tools> & \"Sons\"", "", None, 0, 12345, decimal.Decimal("1.50"),
                                      datetime.date(2026, 1, 2), mark_safe("<b>safe</b>"), "上海"]),
        (Record(22), "/customers/22/?a=1&b=2", ["", "x"]),
        (Record(333), "/customers/333/", [None]),
        (Record(4444), "/customers/4444/", []),
    ]
    with override(lang):
        assert rows_html(rows) == OLD_ROWS.render(Context({"rows": rows}))


def filter_form(html):
    return html[html.index('<form method="get" id="list-form"'):html.index("</form>", html.index('id="list-form"'))]


def test_the_filter_form_shows_each_requests_values_and_the_picked_owners_name(admin, viewer, depts):
    other = make_user("other", depts["sales1"], name="Otto Other")
    ui = browser(admin)
    first = filter_form(ui.get("/customers/", {"status": "active"}).content.decode())
    assert '<option value="active" selected>' in first
    again = filter_form(ui.get("/customers/", {"status": "lost"}).content.decode())
    assert '<option value="lost" selected>' in again and '<option value="active" selected>' not in again
    assert 'value="lost" selected>' not in filter_form(ui.get("/customers/").content.decode())
    # A picker with a value shows that record's name: never from another request's form.
    for user in (viewer, other):
        form = filter_form(ui.get("/customers/", {"owner": user.pk}).content.decode())
        assert f'<option value="{user.pk}" selected>{user}</option>' in form
        assert ({"Viewer Vera", "Otto Other"} - {str(user)}).pop() not in form
    other.name = "Otto Renamed"
    other.save()
    assert "Otto Renamed</option>" in filter_form(ui.get("/customers/", {"owner": other.pk}).content.decode())


def test_dictionary_and_custom_field_changes_show_in_the_filters_and_columns_at_once(admin):
    from crm.core.customfields import services as custom_fields
    from crm.core.dictionary.models import DictionaryItem
    from crm.core.entities import services

    ui = browser(admin)
    page = ui.get("/customers/").content.decode()
    assert "Key account" not in filter_form(page) and 'value="cf_region"' not in page
    item = DictionaryItem.objects.get(kind_id="customer_level", code="important")
    services.update(admin, DictionaryItem, item.pk, {"label_en": "Key account"}, expected_version=item.version)
    assert '<option value="important">Key account</option>' in filter_form(ui.get("/customers/").content.decode())
    custom_fields.create(admin, "customers", {"key": "region", "type": "text", "label_zh": "区域", "label_en": "Region"})
    page = ui.get("/customers/").content.decode()
    assert 'name="cf_region"' in filter_form(page)  # a filter …
    assert 'name="col" value="cf_region"  data-col> Region</label>' in page  # … and a column to choose
    assert 'name="col" value="cf_region" checked data-col> Region' in ui.get(
        "/customers/", {"cols": "name,cf_region"}).content.decode()
