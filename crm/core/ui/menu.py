"""The menu, built from the registry: only what the user may view."""

from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from ..access.scope import can, has_special, scope_cache
from ..entities.registry import all_specs, generation
from . import fragments

GROUPS = {
    "work": (_("Work"), 5),
    "customers": (_("Customers"), 10),
    "catalog": (_("Products"), 15),
    "sales": (_("Sales"), 20),
    "service": (_("Service"), 30),
    "marketing": (_("Marketing"), 40),
    "data": (_("Data"), 85),
    "organisation": (_("Organisation"), 90),
    "settings": (_("Settings"), 95),
}

# Pages that are not entity lists but belong in the menu: (group, label, url name, special permission)
EXTRA_ITEMS = []
_added = 0  # entries added so far (the cached menus key on it)


def add_menu_item(group, label, url_name, icon="circle", special=None, order=100, entity=None):
    """A menu entry for a page; shown with the special permission and/or view right on `entity`."""
    global _added
    _added += 1
    EXTRA_ITEMS.append({"group": group, "label": label, "url_name": url_name, "icon": icon, "special": special,
                        "order": order, "entity": entity})


def menu_for(user):
    """The user's menu: groups of entries, each {"label", "url", "icon", "order", "key"}. Kept with
    the user's grants (`scope_cache`: reloaded when roles or grants change) for the registry's and
    the menu's entries and the URL prefix it was built with (issue #3). Shared: do not change it."""
    cache = scope_cache(user)
    stamp = (generation(), _added, len(EXTRA_ITEMS), get_script_prefix(), get_urlconf())
    hit = cache.get("menu")
    if hit is None or hit[0] != stamp:
        hit = cache["menu"] = (stamp, _build(user))
    return hit[1]


def render_menu(request, menu):
    """The side menu's entries as HTML, the current page's marked "active". Rendered once per
    process for each set of entries, active entry and language (`fragments`): the key is the
    entries' own texts, URLs and icons, so users who see the same menu share it and no one is
    served an entry they may not see."""
    here = request.path[:20]
    entries = tuple(
        (str(group["label"]), tuple((str(i["label"]), i["url"], i["icon"], i["key"], i["url"][:20] == here)
                                    for i in group["items"]))
        for group in menu
    )

    def render():
        groups = [{"label": label, "items": [{"label": il, "url": url, "icon": icon, "key": key, "active": active}
                                             for il, url, icon, key, active in items]}
                  for label, items in entries]
        return render_to_string("crm/_menu.html", {"menu": groups})

    return fragments.cached(("menu", entries), render)


def _build(user):
    groups = {}
    for spec in all_specs():
        if spec.menu and can(user, spec.key, "view"):
            groups.setdefault(spec.menu.group, []).append(
                {"label": spec.label_plural, "url": reverse(f"{spec.key}-list"), "icon": spec.menu.icon,
                 "order": spec.menu.order, "key": spec.key}
            )
    for item in EXTRA_ITEMS:
        if (item["special"] is None or has_special(user, item["special"])) and (
            item["entity"] is None or can(user, item["entity"], "view")
        ):
            groups.setdefault(item["group"], []).append(
                {"label": item["label"], "url": reverse(item["url_name"]), "icon": item["icon"],
                 "order": item["order"], "key": item["url_name"]}
            )
    out = []
    for key, items in groups.items():
        label, order = GROUPS.get(key, (key, 100))
        out.append({"key": key, "label": label, "order": order, "items": sorted(items, key=lambda i: i["order"])})
    return sorted(out, key=lambda g: g["order"])
