from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from crm.core.api.urls import api_urlpatterns
from crm.core.dictionary.views import parameters_page
from crm.core.ui import pages
from crm.core.ui import trash as trash_views
from crm.core.ui.urls import entity_urlpatterns

urlpatterns = [
    path("", pages.home, name="home"),
    path("search/", pages.search, name="search"),
    path("trash/", trash_views.trash, name="trash"),
    path("account/", pages.account, name="account"),
    path("account/tokens/", pages.api_tokens, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", pages.api_token_revoke, name="api-token-revoke"),
    path("api/docs/", pages.api_docs, name="api-docs"),
    path("settings/parameters/", parameters_page, name="parameters"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("crm.org.urls")),
    path("", include("crm.customers.urls")),
    path("", include("crm.sales.urls")),
    path("", include("crm.activities.urls")),
    path("", include("crm.core.attachments.urls")),
    *entity_urlpatterns(),
    *api_urlpatterns(),
]
