from django.urls import path

from . import api, views


def entity_patterns(key):
    kw = {"key": key}
    return [
        path(f"{key}/import/", views.import_upload, kw, name=f"{key}-import"),
        path(f"{key}/import/template/", views.import_template, kw, name=f"{key}-import-template"),
    ]


def io_urlpatterns():
    return [
        path("imports/", views.import_list, name="import-list"),
        path("imports/<int:pk>/", views.import_job, name="import-job"),
        path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
        path("imports/<int:pk>/errors/", views.import_errors, name="import-errors"),
    ]


def api_urlpatterns():
    return [
        path("api/v1/imports/", api.ImportListAPIView.as_view(), name="api-imports"),
        path("api/v1/imports/<int:pk>/", api.ImportDetailAPIView.as_view(), name="api-import"),
        path("api/v1/imports/<int:pk>/run/", api.ImportRunAPIView.as_view(), name="api-import-run"),
        path("api/v1/imports/<int:pk>/errors/", api.ImportErrorsAPIView.as_view(), name="api-import-errors"),
        path("api/v1/exports/<str:entity>/", api.ExportAPIView.as_view(), name="api-export"),
    ]
