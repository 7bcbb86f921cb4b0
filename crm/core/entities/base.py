"""The entity base: an abstract model assembled from feature mixins (DESIGN.md mechanism 1).

No multi-table inheritance: each entity is one table. Scope fields (owner, department) are
plain foreign keys so the scope predicate is one indexed comparison.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..versions import BumpingQuerySet


class EntityQuerySet(BumpingQuerySet, models.QuerySet):
    def for_user(self, user, action="view"):
        """The only way a user's read reaches the database (DESIGN.md mechanism 3)."""
        from ..access.scope import scope_q

        return self.filter(scope_q(user, self.model, action))

    def alive(self):
        if hasattr(self.model, "deleted_at"):
            return self.filter(deleted_at__isnull=True)
        return self


def select_for_display(queryset, relations):
    """`select_related(*relations)` for lists: of each related row only the columns its str()
    shows (the related model's `display_fields`, e.g. an owner's name and username), never the
    whole row. A page of 25 customers read ~145 columns a row (owner, department, parent customer,
    territory), and building those instances was most of a list request's ORM time (issue #3).
    Relations to models without `display_fields` are loaded whole; the model's own columns always."""
    if not relations:
        return queryset
    model = queryset.model
    names, trimmed = [f.name for f in model._meta.concrete_fields], False
    for path in relations:
        related = model
        for part in path.split("__"):
            related = related._meta.get_field(part).related_model
        shown = getattr(related, "display_fields", None)
        trimmed = trimmed or shown is not None
        columns = [related._meta.pk.name, *shown] if shown is not None else [f.name for f in related._meta.concrete_fields]
        names += [f"{path}__{c}" for c in columns]
    queryset = queryset.select_related(*relations)
    return queryset.only(*names) if trimmed else queryset


class _BaseEntityManager(models.Manager.from_queryset(EntityQuerySet)):
    pass


class EntityManager(_BaseEntityManager):
    """Default manager: deleted (recycle-bin) rows are invisible."""

    def get_queryset(self):
        return super().get_queryset().alive()


class AllObjectsManager(_BaseEntityManager):
    """Includes rows in the recycle bin; used by the recycle bin and restore only."""


class TimestampedMixin(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )

    class Meta:
        abstract = True


class VersionedMixin(models.Model):
    """Optimistic locking: every save bumps the version; a stale save is refused."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class OwnedMixin(models.Model):
    """Owner and department: the scope predicate's columns. Every model with them (the entities)
    declares the composite indexes (owner, updated_at, id) and (department, updated_at, id) for
    its lists, which also serve the scope predicate and the foreign keys' ON DELETE checks, so
    the columns have no single-column index of their own: each would only cost every insert
    (issue #3, the import). `tests/test_indexes.py` checks that each such column leads an index."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", editable=False, db_index=False,
    )
    department = models.ForeignKey(
        settings.CRM_DEPARTMENT_MODEL, verbose_name=_("owning department"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", editable=False, db_index=False,
    )

    class Meta:
        abstract = True


class CustomFieldsMixin(models.Model):
    custom = models.JSONField(_("custom fields"), default=dict, blank=True, editable=False)

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude=exclude)
        if not exclude or "custom" not in exclude:  # forms check their custom fields themselves
            from ..customfields.values import check_record  # SYS-11: the values' one check

            check_record(self)


class TaggedMixin(models.Model):
    tags = models.ManyToManyField("core.Tag", verbose_name=_("tags"), blank=True, related_name="+")

    class Meta:
        abstract = True


class SoftDeleteMixin(models.Model):
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("deleted by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )

    class Meta:
        abstract = True


class Entity(TimestampedMixin, VersionedMixin, OwnedMixin, CustomFieldsMixin, TaggedMixin, SoftDeleteMixin):
    """A main business entity: owned, scoped, versioned, taggable, recoverable."""

    # Every entity sorts its list by (updated_at, id) and declares that index (e.g. "cust_updated"),
    # which serves any query on updated_at: no single-column index besides it (see OwnedMixin).
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = EntityManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"
