from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from ..attachments.urls import api_urlpatterns as attachments_api_urlpatterns
from ..customfields.api import CustomFieldViewSet
from ..dictionary.views import ParametersAPIView
from ..entities.registry import all_specs
from ..io.urls import api_urlpatterns as io_api_urlpatterns
from ..search.api import SearchAPIView
from ..jobs.urls import api_urlpatterns as jobs_api_urlpatterns
from ..notifications.urls import api_urlpatterns as notifications_api_urlpatterns
from .viewsets import viewset_class


def api_urlpatterns():
    router = DefaultRouter(trailing_slash=True)
    router.include_root_view = False
    for spec in all_specs():
        router.register(spec.key, viewset_class(spec), basename=f"api-{spec.key}")
    router.register("custom-fields", CustomFieldViewSet, basename="api-custom-fields")  # SYS-11
    return [
        path("api/v1/search/", SearchAPIView.as_view(), name="api-search"),
        *jobs_api_urlpatterns, *notifications_api_urlpatterns, *attachments_api_urlpatterns,
        path("api/v1/", include(router.urls)),
        path("api/v1/parameters/", ParametersAPIView.as_view(), name="api-parameters"),
        *io_api_urlpatterns(),  # imports and exports (INT-4)
        path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    ]
