"""A viewset per registered entity: list (filter, sort, cursor), retrieve, create, PATCH, delete,
plus transfer, reveal, restore and notes. Reads go through the scope predicate, writes through
the services."""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..access.masking import HIDDEN, can_reveal, mask, present_change
from ..access.scope import can, get_for_user_or_404
from ..audit import log
from ..audit.models import AuditEntry
from ..entities import services
from ..entities.base import select_for_display
from ..timeline.feed import timeline
from ..timeline.models import Note
from ..ui.filters import filterset_class
from .errors import Conflict, DuplicatesFound
from .pagination import KeysetPagination
from .serializers import serializer_class, writable_data

# One named component for the error format of crm.core.api.errors (clients generate one type).
ErrorBody = inline_serializer("Error", {"error": inline_serializer("ErrorDetail", {
    "status": serializers.IntegerField(),
    "code": serializers.CharField(),
    "message": serializers.CharField(),
    "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    "current": serializers.DictField(required=False, help_text="409 only: the record as it is now."),
    "duplicates": serializers.ListField(child=serializers.IntegerField(), required=False,
                                        help_text="409 duplicate only: ids of similar records you can see."),
    "hidden_duplicates": serializers.IntegerField(required=False,
                                                  help_text="409 duplicate only: similar records you cannot see."),
})})

ERRORS = {code: OpenApiResponse(response=ErrorBody, description=desc) for code, desc in (
    (400, "Invalid input, with field errors"), (401, "Not authenticated"), (403, "No permission"),
    (404, "Not found or out of your data scope"), (409, "Changed by someone else"),
)}

ACTION_PERMS = {
    "list": "view", "retrieve": "view", "create": "create", "partial_update": "edit", "destroy": "delete",
    "transfer": "assign", "reveal": "view", "restore": "delete", "purge": "delete", "notes": "view",
    "merge": "edit", "merge_undo": "edit",  # and "delete": checked by crm.core.entities.merge
}

class TransferInput(serializers.Serializer):  # classes, not inline_serializer instances: the views call them
    owner = serializers.IntegerField()
    reason = serializers.CharField(required=False, max_length=200)


class NoteInput(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class MergeInput(serializers.Serializer):
    survivor = serializers.IntegerField(help_text="The record that stays (edit right needed).")
    others = serializers.ListField(child=serializers.IntegerField(), help_text=(
        "The records merged into it (delete right needed); they go to the recycle bin. At most 9."))
    choices = serializers.DictField(child=serializers.IntegerField(), required=False, help_text=(
        "Field name (or `custom.<key>`) → id of the record whose value the survivor keeps. Fields left "
        "out keep the survivor's value if it has one, else the first non-empty one."))
    versions = serializers.DictField(child=serializers.IntegerField(), required=False, help_text=(
        "Record id → the version you saw; a record changed since answers 409 and nothing is merged."))


class TimelineItem(serializers.Serializer):
    kind = serializers.CharField(help_text=(
        "`note`, `audit`, or the kind of a record another module adds to timelines (`activity`)."))
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    action = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True, help_text="Headline of an item added by another module.")
    url = serializers.CharField(allow_null=True, help_text="Page of an item added by another module.")
    body = serializers.CharField(allow_null=True)
    changes = serializers.DictField(allow_null=True)


class EntityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    spec = None
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        needed = ACTION_PERMS.get(self.action)
        if needed and not can(request.user, self.spec.key, needed):
            raise PermissionDenied

    def get_queryset(self):
        qs = self.spec.model.objects.for_user(self.request.user, ACTION_PERMS.get(self.action, "view"))
        if self.action == "list":  # a page of records: of related rows only what their names need
            qs = select_for_display(qs, self.spec.select_related)
        elif self.spec.select_related:
            qs = qs.select_related(*self.spec.select_related)
        if "tags" in self.spec.form_fields:
            qs = qs.prefetch_related("tags")
        if self.spec.prefetch_related:
            qs = qs.prefetch_related(*self.spec.prefetch_related)
        return qs

    def get_object(self):
        return get_for_user_or_404(self.request.user, self.get_queryset(), self.kwargs["pk"], ACTION_PERMS.get(self.action, "view"))

    def _data(self, serializer, instance=None):
        data, m2m, version = writable_data(serializer)
        if instance is not None and not can_reveal(self.request.user, self.spec, instance):
            # A client echoing back a masked number means "unchanged".
            for name in self.spec.masked_fields:
                if name in data and data[name] == mask(self.spec, name, getattr(instance, name)):
                    del data[name]
        return data, m2m, version

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, m2m, _v = self._data(serializer)
        if self.spec.duplicate_keys and not _forced(request):
            from ..entities.duplicates import find_duplicates

            probe = self.spec.model(**data)
            try:
                probe.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError:
                probe = None  # invalid input: the create below answers with the field errors
            found = probe is not None and find_duplicates(request.user, self.spec, probe, limit=50)
            if found:
                raise DuplicatesFound([o.pk for o, _rules in found.visible], found.hidden)
        obj = services.create(request.user, self.spec.model, data, m2m)
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data, m2m, version = self._data(serializer, instance)
        if self.spec.duplicate_keys and not _forced(request):
            self._check_duplicates_on_edit(instance, data)
        try:
            obj = services.update(request.user, self.spec.model, instance.pk, data, m2m, expected_version=version)
        except services.ConflictError as exc:
            current = self.get_serializer(exc.current).data
            raise Conflict(str(exc), current=current)
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(obj).data)

    def _check_duplicates_on_edit(self, instance, data):
        """CUS-3 on edit: 409 when a changed key (name, phone, e-mail …) matches another record."""
        import copy

        from ..entities.duplicates import duplicates_on_edit, key_values

        before = key_values(self.spec, instance)
        probe = copy.copy(instance)
        probe._state = copy.copy(instance._state)
        probe._state.fields_cache = dict(instance._state.fields_cache)
        for name, value in data.items():
            setattr(probe, name, value)
        try:
            probe.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError:
            return  # invalid input: the update answers with the field errors
        found = duplicates_on_edit(self.request.user, self.spec, before, probe, limit=50)
        if found:
            raise DuplicatesFound([o.pk for o, _rules in found.visible], found.hidden, editing=True)

    def destroy(self, request, *args, **kwargs):
        services.delete(request.user, self.spec.model, self.kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transfer(self, request, pk=None):
        ser = TransferInput(data=request.data)
        ser.is_valid(raise_exception=True)
        owner = get_user_model().objects.filter(pk=ser.validated_data["owner"], is_active=True).first()
        services.transfer(request.user, self.spec.model, [pk], owner, ser.validated_data.get("reason", ""))
        return Response(self.get_serializer(self.spec.model.objects.get(pk=pk)).data)

    def _reveal(self, request, pk=None):
        obj = self.get_object()
        if not can_reveal(request.user, self.spec, obj):
            raise PermissionDenied
        values = {n: getattr(obj, n) for n in self.spec.masked_fields}
        log.record(request.user, AuditEntry.Action.REVEAL, obj, extra={"fields": sorted(values)}, request=request)
        return Response(values)

    def _restore(self, request, pk=None):
        obj = services.restore(request.user, self.spec.model, pk)
        return Response(self.get_serializer(obj).data)

    def _purge(self, request, pk=None):
        services.purge(request.user, self.spec.model, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _notes(self, request, pk=None):
        obj = self.get_object()
        if request.method == "POST":
            ser = NoteInput(data=request.data)
            ser.is_valid(raise_exception=True)
            Note.objects.create(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk,
                                body=ser.validated_data["body"], author=request.user)
        items = [{
            "kind": i.kind, "at": i.at, "actor": str(i.actor) if i.actor else None,
            "action": i.obj.action if i.kind == "audit" else None,
            "title": i.title or None, "url": i.url or None,
            "body": i.obj.body if i.kind == "note" else (i.body or None),
            "changes": {k: [str(v) if v is HIDDEN else v for v in present_change(request.user, self.spec, k, *pair)]
                        for k, pair in i.obj.changes.items()} if i.kind == "audit" else None,
        } for i in timeline(obj, user=request.user)]  # with the sources other modules register (activities)
        return Response(TimelineItem(items, many=True).data,
                        status=status.HTTP_201_CREATED if request.method == "POST" else 200)


def _merge(self, request):
    """CUS-3: merge records into one; see crm.core.entities.merge."""
    from ..entities import merge as merging

    ser = MergeInput(data=request.data)
    ser.is_valid(raise_exception=True)
    d = ser.validated_data
    try:
        result = merging.merge(request.user, self.spec.model, d["survivor"], d["others"], d.get("choices") or {},
                               d.get("versions") or {})
    except services.ConflictError as exc:
        raise Conflict(str(exc), current=self.get_serializer(exc.current).data)
    obj = self.spec.model.objects.get(pk=result.survivor.pk)
    return Response({"merge": result.record.pk, "survivor": self.get_serializer(obj).data,
                     "merged": [o.pk for o in result.merged], "moved": {str(k): n for k, n in result.moved}})


def _merge_undo(self, request, pk=None):
    """CUS-3: undo a merge (within the undo period, with the same rights)."""
    from ..entities import merge as merging

    try:
        rec = merging.undo(request.user, self.spec.model, pk)  # pk: the merge's id
    except services.ConflictError as exc:
        raise Conflict(str(exc), current=self.get_serializer(exc.current).data)
    obj = self.spec.model.objects.get(pk=rec.survivor_id)
    return Response({"merge": rec.pk, "survivor": self.get_serializer(obj).data,
                     "restored": [r.object_id for r in rec.losers.all()]})


def _forced(request):
    """`?force=1` or `"force": true` in the body: create even if similar records exist."""
    flag = request.query_params.get("force")
    if flag is None and hasattr(request.data, "get"):
        flag = request.data.get("force")
    return str(flag).lower() in ("1", "true", "yes")


FORCE = OpenApiParameter("force", bool, OpenApiParameter.QUERY, required=False, description=(
    "Create the record even if similar records exist (duplicate check, CUS-3); the body field "
    "`force: true` does the same."))
DUPLICATES_409 = OpenApiResponse(response=ErrorBody, description=(
    "Similar records exist (duplicate check): `duplicates` lists the ids of those you can see, "
    "`hidden_duplicates` counts the others. Repeat with `?force=1` to create it anyway."))


FORCE_EDIT = OpenApiParameter("force", bool, OpenApiParameter.QUERY, required=False, description=(
    "Save the change even if it makes the record similar to another one (duplicate check on a "
    "changed name, phone, e-mail or other key, CUS-3); the body field `force: true` does the same."))
EDIT_409 = OpenApiResponse(response=ErrorBody, description=(
    "Changed by someone else (`code: conflict`, with `current`), or the change makes the record similar "
    "to others (`code: duplicate`, with `duplicates` and `hidden_duplicates`; repeat with `?force=1`)."))


def _named(fn, name):
    """A fresh function per entity (drf-spectacular stores its overrides on the function)."""

    def method(self, request, *args, **kwargs):
        return fn(self, request, *args, **kwargs)

    method.__name__ = name
    return method


def viewset_class(spec):
    Serializer = serializer_class(spec)
    name = spec.model.__name__
    tags = [str(spec.key)]
    ok = {200: Serializer, **{k: v for k, v in ERRORS.items() if k != 409}}
    attrs = {
        "spec": spec,
        "serializer_class": Serializer,
        "filterset_class": filterset_class(spec),
        "queryset": spec.model.objects.none(),
        "list": extend_schema(tags=tags, responses={200: Serializer(many=True), 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403]})(
            _named(EntityViewSet.list, "list")),
        "retrieve": extend_schema(tags=tags, responses=ok)(_named(EntityViewSet.retrieve, "retrieve")),
        "create": extend_schema(tags=tags, responses={201: Serializer, **ERRORS, **({409: DUPLICATES_409} if spec.duplicate_keys else {})},
                                parameters=[FORCE] if spec.duplicate_keys else None)(_named(EntityViewSet.create, "create")),
        "partial_update": extend_schema(tags=tags, responses={200: Serializer, **ERRORS, **(
            {409: EDIT_409} if spec.duplicate_keys else {})}, parameters=[FORCE_EDIT] if spec.duplicate_keys else None)(
            _named(EntityViewSet.partial_update, "partial_update")),
        "destroy": extend_schema(tags=tags, responses={204: None, **ERRORS})(_named(EntityViewSet.destroy, "destroy")),
    }

    def extra(method_name, fn, methods, **schema):
        # extend_schema must wrap the action: action() replaces the function's `kwargs`, where
        # drf-spectacular keeps its override, so the other order silently documents nothing.
        # Extra actions answer one object or one short list: never paginated.
        attrs[method_name] = extend_schema(tags=tags, **schema)(
            action(detail=True, methods=methods, url_path=method_name, url_name=method_name,
                   pagination_class=None, filter_backends=[])(_named(fn, method_name)))

    if spec.has_owner:
        extra("transfer", EntityViewSet._transfer, ["post"], request=TransferInput, responses=ok)
    if spec.masked_fields:
        revealed = inline_serializer(f"{name}Revealed", {n: serializers.CharField() for n in spec.masked_fields})
        extra("reveal", EntityViewSet._reveal, ["post"], request=None, responses={200: revealed, **ERRORS})
    if spec.soft_delete:
        extra("restore", EntityViewSet._restore, ["post"], request=None, responses=ok)
        extra("purge", EntityViewSet._purge, ["post"], request=None, responses={
            204: None, **{k: v for k, v in ERRORS.items() if k != 409}},
            description="Delete a record in the recycle bin permanently (special permission `purge`), with the "
                        "records that went to the bin with it. 400 when something still references it.")
    if spec.duplicate_keys and spec.soft_delete:  # merging duplicates (CUS-3)
        merged = inline_serializer(f"{name}Merged", {
            "merge": serializers.IntegerField(help_text="Id of the merge, for undo."), "survivor": Serializer(),
            "merged": serializers.ListField(child=serializers.IntegerField()),
            "moved": serializers.DictField(child=serializers.IntegerField(), help_text="Related records moved, by kind.")})
        unmerged = inline_serializer(f"{name}Unmerged", {
            "merge": serializers.IntegerField(), "survivor": Serializer(),
            "restored": serializers.ListField(child=serializers.IntegerField())})
        attrs["merge"] = extend_schema(
            tags=tags, request=MergeInput, responses={200: merged, **ERRORS},
            description="Merge duplicates into the survivor (CUS-3): chosen field values, every related record "
                        "moved, the others to the recycle bin. Needs edit on the survivor and delete on the others.")(
            action(detail=False, methods=["post"], url_path="merge", url_name="merge", pagination_class=None,
                   filter_backends=[])(_named(_merge, "merge")))
        attrs["merge_undo"] = extend_schema(
            tags=tags, request=None, responses={200: unmerged, **ERRORS},
            parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The merge's id.")],
            description="Undo a merge within the undo period (system parameter `merge_undo_days`): the merged "
                        "records come back with exactly the related records moved from them.")(
            action(detail=False, methods=["post"], url_path=r"merge/(?P<pk>[0-9]+)/undo", url_name="merge-undo",
                   pagination_class=None, filter_backends=[])(_named(_merge_undo, "merge_undo")))
    extra("notes", EntityViewSet._notes, ["get", "post"], request=NoteInput,
          responses={200: TimelineItem(many=True), 201: TimelineItem(many=True), **ERRORS})
    return type(f"{name}ViewSet", (EntityViewSet,), attrs)
