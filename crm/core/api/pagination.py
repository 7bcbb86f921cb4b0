from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from ..ui.pagination import BadCursor, keyset_page


class KeysetPagination(BasePagination):
    """Cursor pagination over the spec's sort fields: `?sort=-name&cursor=...&page_size=50`."""

    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        spec = view.spec
        try:
            size = min(int(request.query_params.get("page_size", settings.CRM_PAGE_SIZE)), self.max_page_size)
        except ValueError:
            size = settings.CRM_PAGE_SIZE
        size = max(size, 1)
        try:
            page = keyset_page(queryset, spec, request.query_params.get("sort"), request.query_params.get("cursor"), size)
        except BadCursor:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"cursor": [_("Invalid cursor.")]})
        self.request, self.page = request, page
        return page.rows

    def _link(self, cursor):
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "cursor", cursor) if cursor else None

    def get_paginated_response(self, data):
        return Response({"next": self._link(self.page.next_cursor), "previous": self._link(self.page.prev_cursor), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Opaque cursor from `next` or `previous`."},
            {"name": "page_size", "in": "query", "required": False, "schema": {"type": "integer", "maximum": 200}},
            {"name": "sort", "in": "query", "required": False,
             "schema": {"type": "string", "enum": sorted(view.spec.sort_fields + [f"-{s}" for s in view.spec.sort_fields])}},
        ]

