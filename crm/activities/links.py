"""Linking work to any registered record by (content type, object id): the choices a form or
the API offers, and the lookups the timeline and the detail-page panels make."""

from django.contrib.contenttypes.models import ContentType

from crm.core.access.scope import can
from crm.core.entities.registry import all_specs, get_spec

# Entities one does not follow up (configuration, organisation, this app's own records).
NOT_LINKABLE_APPS = {"core", "org", "activities"}


def linkable_specs():
    return [s for s in all_specs() if s.app_label not in NOT_LINKABLE_APPS]


def record_type_choices(user=None):
    return [(s.key, s.label) for s in linkable_specs() if user is None or can(user, s.key, "view")]


def content_type_for_key(key):
    try:
        spec = get_spec(key)
    except KeyError:
        return None
    if spec.app_label in NOT_LINKABLE_APPS:
        return None
    return ContentType.objects.get_for_model(spec.model)


def key_for_content_type(ct):
    if ct is None:
        return ""
    try:
        return get_spec(ct.model_class()).key
    except LookupError:
        return ""
