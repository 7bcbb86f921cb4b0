"""One registration per entity (DESIGN.md mechanism 2).

`register_entity(Model, EntitySpec(...))` in an AppConfig.ready() is all an app writes; the
kernel generates form, filters, list table, serializer, viewset, URLs, menu entry, permissions
and test cases from it. An app overrides a generated piece by convention: a class named
`<Model>Form` in the app's `forms.py`, `<Model>Serializer` in `serializers.py`,
`<Model>FilterSet` in `filters.py`.
"""

from dataclasses import dataclass, field
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from django.utils.text import capfirst

ACTIONS = ("view", "create", "edit", "delete", "export", "import", "assign")


@dataclass
class MenuEntry:
    group: str  # key of a menu group, see crm.core.ui.menu.GROUPS
    icon: str = "circle"
    order: int = 100


@dataclass
class DetailAction:
    label: str
    url_name: str  # reversed with pk=<record id>
    icon: str = "gear"
    special: str | None = None  # shown only with this special permission


@dataclass
class EntitySpec:
    key: str  # plural, used in URLs (/customers/, /api/v1/customers/) and grants
    list_columns: list[str]
    form_fields: list[str]
    default_columns: list[str] | None = None
    filter_fields: dict = field(default_factory=dict)  # django-filter spec {field: [lookups]}
    sort_fields: list[str] = field(default_factory=lambda: ["updated_at"])
    default_sort: str = "-updated_at"
    search_fields: list[str] = field(default_factory=list)  # text fields the search box matches
    detail_fields: list[str] | None = None
    masked_fields: dict[str, str] = field(default_factory=dict)  # field -> mask kind ("phone")
    # field -> special permission: hidden and read-only without it, everywhere (SEC-1, masking.py)
    protected_fields: dict[str, str] = field(default_factory=dict)
    select_related: list[str] = field(default_factory=list)
    prefetch_related: list[str] = field(default_factory=list)
    menu: MenuEntry | None = None
    owner_field: str | None = "owner"  # own scope: this field equals the user
    department_field: str | None = "department"  # department scopes: this field's department
    api_extra_read_only: list[str] = field(default_factory=list)
    testing: str | None = None  # "module:Class" giving test data for the generated test kit
    actions: tuple = ACTIONS
    hard_delete: bool = False  # no recycle bin (e.g. configuration entities)
    detail_panels: list = field(default_factory=list)  # callables (request, obj) -> panel dict
    detail_actions: list = field(default_factory=list)  # DetailAction: extra buttons on the detail page
    number_field: str | None = None  # filled from the entity's numbering rule (SYS-5) when left blank
    duplicate_keys: list = field(default_factory=list)  # DuplicateKey rules of the duplicate check (CUS-3)
    # A path to users who may also view a record whatever its owner (e.g. "assignments__user"): with
    # any view grant, a task's assignees and an appointment's invitees see it (never edit it).
    shared_with: str | None = None
    # Files attach to the records (kernel mechanism 5, crm.core.attachments): an "Attachments"
    # panel on the detail page and /api/v1/attachments/?content_type=<key>&object_id=<id>.
    attachments: bool = False

    model: type | None = None

    @property
    def label(self):
        return capfirst(self.model._meta.verbose_name)

    @property
    def label_plural(self):
        return capfirst(self.model._meta.verbose_name_plural)

    @property
    def app_label(self):
        return self.model._meta.app_label

    @property
    def soft_delete(self):
        return hasattr(self.model, "deleted_at") and not self.hard_delete

    @property
    def has_owner(self):
        return self.owner_field == "owner" and hasattr(self.model, "owner")

    @property
    def versioned(self):
        return hasattr(self.model, "version")

    @cached_property
    def scoped_by_records(self):
        """True where scope levels differ per record (there is an owner or a department)."""
        return bool(self.owner_field or self.department_field)

    def override(self, module, suffix):
        """Return the app's own `<Model><suffix>` from `<app>.<module>` if it defines one."""
        app_module = self.model.__module__.rsplit(".", 1)[0]
        try:
            mod = import_module(f"{app_module}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_module}.{module}":
                raise
            return None
        return getattr(mod, f"{self.model.__name__}{suffix}", None)

    def validate(self):
        opts = self.model._meta
        for name in self.sort_fields:
            f = opts.get_field(name)
            if f.null:
                raise ImproperlyConfigured(
                    f"{self.key}: sort field {name!r} is nullable; keyset pagination needs NOT NULL"
                )
        for name in self.protected_fields:
            # A search, filter or sort on a hidden field would reveal it one query at a time.
            if name in self.search_fields or name in self.filter_fields or name in self.sort_fields:
                raise ImproperlyConfigured(f"{self.key}: protected field {name!r} cannot be searched, filtered or sorted")


_registry: dict[str, EntitySpec] = {}
_generation = 0  # changes with every registration (what is built from the registry, e.g. the menu, keys on it)


def register_entity(model, spec: EntitySpec) -> EntitySpec:
    global _generation
    if spec.key in _registry and _registry[spec.key].model is not model:
        raise ImproperlyConfigured(f"entity key {spec.key!r} registered twice")
    spec.model = model
    spec.validate()
    model.entity_spec = spec
    _registry[spec.key] = spec
    _generation += 1
    return spec


def generation() -> int:
    """A number that changes whenever an entity is registered."""
    return _generation


def all_specs() -> list[EntitySpec]:
    return list(_registry.values())


def get_spec(key_or_model) -> EntitySpec:
    if isinstance(key_or_model, str):
        return _registry[key_or_model]
    spec = getattr(key_or_model, "entity_spec", None)
    if spec is None:
        raise LookupError(f"{key_or_model!r} is not a registered entity")
    return spec
