"""GET /api/v1/search/?q= : the global search through the API, grouped per entity, with the
same index, scope predicate and field rules as the search page."""

from datetime import date, datetime

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access.masking import present
from .query import search, shown_columns

PER_ENTITY_MAX = 50


class SearchHit(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="The record in the API.")
    fields = serializers.DictField(child=serializers.CharField(allow_blank=True),
                                   help_text="A few list columns as the user may see them (phones masked).")


class SearchGroup(serializers.Serializer):
    entity = serializers.CharField(help_text="The entity key, e.g. customers.")
    label = serializers.CharField()
    more = serializers.BooleanField(help_text="More matches than returned: narrow the term or ask for this entity.")
    results = SearchHit(many=True)


class SearchResults(serializers.Serializer):
    query = serializers.CharField()
    groups = SearchGroup(many=True)


class SearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=200, trim_whitespace=True)
    entity = serializers.CharField(required=False, max_length=60)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=PER_ENTITY_MAX, default=5)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


class SearchAPIView(APIView):
    """Search every entity you may view by part of a name, full pinyin, pinyin initials, code,
    e-mail or phone (masked numbers: the last 4 digits or the whole number, unless you may reveal
    them). At least 2 characters."""

    @extend_schema(
        tags=["search"], operation_id="search",
        parameters=[
            OpenApiParameter("q", str, required=True, description="The search term (at least 2 characters)."),
            OpenApiParameter("entity", str, description="Only this entity (its key, e.g. customers)."),
            OpenApiParameter("limit", int, description=f"Results per entity, 1-{PER_ENTITY_MAX} (default 5)."),
        ],
        responses={200: SearchResults, **_errors(400, 401)},
    )
    def get(self, request):
        params = SearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        entity = params.validated_data.get("entity")
        query, groups = search(request.user, params.validated_data["q"], params.validated_data["limit"],
                               [entity] if entity else None)
        if query.error:
            raise serializers.ValidationError({"q": [query.error]})
        out = []
        for g in groups:
            shown = shown_columns(g.spec)
            out.append({
                "entity": g.spec.key, "label": str(g.spec.label_plural), "more": g.more,
                "results": [{
                    "id": o.pk, "title": str(o), "url": reverse(f"api-{g.spec.key}-detail", args=[o.pk]),
                    "fields": {c: _text(present(request.user, g.spec, o, c)) for c in shown},
                } for o in g.objects],
            })
        return Response(SearchResults({"query": query.text, "groups": out}).data)
