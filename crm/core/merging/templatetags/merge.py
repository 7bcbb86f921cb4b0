"""Template tags of merging (CUS-3): the merge line in a timeline, "merged into" in the bin."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def merge_state(context, entry):
    """For the survivor's merge entry: undone?, the undo URL when this user may undo it now."""
    from ...entities import merge as merging
    from ..models import MergeRecord

    rec = MergeRecord.objects.filter(pk=entry.extra.get("merge")).prefetch_related("losers").first()
    if rec is None:
        return {}
    request = context.get("request")
    user = getattr(request, "user", None)
    state = {"undone": rec.undone_at is not None, "deadline": merging.undo_deadline(rec)}
    if user is not None and not state["undone"] and merging.can_undo(user, rec):
        try:
            state["undo_url"] = reverse(f"{rec.entity}-merge-undo", kwargs={"merge_id": rec.pk})
        except NoReverseMatch:
            pass
    return state


@register.simple_tag(takes_context=True)
def merged_into(context, obj):
    """The merge that put `obj` in the recycle bin, if any. One query per entity and page: the
    ids are taken from the page's `rows` (or `groups`)."""
    from ...entities import merge as merging

    model = type(obj)
    cache = context.render_context.setdefault("merged_into", {})
    if model not in cache:
        rows = list(context.get("rows") or [])
        for group in context.get("groups") or []:
            rows += list(group.get("rows", []))
        ids = {r.pk for r in rows if isinstance(r, model)} | {obj.pk}
        cache[model] = merging.merged_into(model, ids)
    return cache[model].get(obj.pk)
