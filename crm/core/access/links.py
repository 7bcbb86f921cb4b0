"""Many-to-many links under the scope predicate (DESIGN.md mechanism 3), one rule for forms and
the API: an opportunity's contacts and competitors, an activity's contacts, a pool's departments.

- A picker offers only the records the user may see (`offered`): a record someone else linked
  and the editor may not see is neither listed nor named.
- A write may name visible records and those already linked (`accepted`): an API client can send
  back the ids it read.
- Saving keeps the links the editor cannot see (`kept`): choosing among what one sees never
  removes what one cannot.

Links to employees (team members, participants) and to unregistered models keep the field's own
choice (docs/permissions.md)."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from ..entities.registry import get_spec


def governs(related) -> bool:
    """Do links to `related` follow the scope predicate?"""
    if related is get_user_model():
        return False
    try:
        get_spec(related)
    except LookupError:
        return False
    return True


def offered(user, related):
    return related.objects.for_user(user, "view") if user is not None else related.objects.none()


def _linked(instance, name):
    return getattr(instance, name).values("pk") if instance is not None and getattr(instance, "pk", None) else None


def accepted(user, related, instance, name):
    linked = _linked(instance, name)
    visible = offered(user, related)
    if linked is None:
        return visible
    return related._base_manager.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=linked))


def kept(user, related, instance, name, chosen):
    """`chosen` plus the records `instance` links to that `user` may not see."""
    chosen = list(chosen or [])
    linked = _linked(instance, name)
    if linked is None:
        return chosen
    have = {obj.pk for obj in chosen}
    hidden = related._base_manager.filter(pk__in=linked).exclude(pk__in=offered(user, related).values("pk"))
    return chosen + [obj for obj in hidden if obj.pk not in have]
