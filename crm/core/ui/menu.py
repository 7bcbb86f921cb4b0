"""The menu, built from the registry: only what the user may view."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..access.scope import can, has_special
from ..entities.registry import all_specs

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


def add_menu_item(group, label, url_name, icon="circle", special=None, order=100, entity=None):
    """A menu entry for a page; shown with the special permission and/or view right on `entity`."""
    EXTRA_ITEMS.append({"group": group, "label": label, "url_name": url_name, "icon": icon, "special": special,
                        "order": order, "entity": entity})


def menu_for(user):
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
