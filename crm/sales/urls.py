from django.urls import path

from . import api, compplan_api, compplan_views, views

urlpatterns = [
    path("sales/board/", views.kanban_default, name="sales-kanban"),
    path("sales/board/<int:pk>/", views.kanban, name="sales-kanban-pipeline"),
    path("sales/funnel/", views.funnel, name="sales-funnel"),
    path("sales/owners/", views.owner_lookup, name="sales-owner-lookup"),
    path("sales/opportunities/<int:pk>/move/", views.move, name="sales-opportunity-move"),
    path("sales/opportunities/<int:pk>/win/", views.opportunity_win, name="sales-opportunity-win"),
    path("sales/opportunities/<int:pk>/lose/", views.opportunity_lose, name="sales-opportunity-lose"),
    path("sales/leads/<int:pk>/convert/", views.lead_convert, name="sales-lead-convert"),
    path("sales/leads/<int:pk>/assign/", views.lead_assign, name="sales-lead-assign"),
    path("sales/web-forms/<int:pk>/open/", views.web_form_preview, name="sales-web-form-preview"),
    path("f/<str:token>/", views.web_form, name="sales-web-form"),
    # API actions beside the generated endpoints (/api/v1/leads/…, /api/v1/opportunities/…)
    path("api/v1/leads/<int:pk>/convert/", api.LeadConvertView.as_view(), name="api-leads-convert"),
    path("api/v1/leads/<int:pk>/assign/", api.LeadAssignView.as_view(), name="api-leads-assign"),
    path("api/v1/opportunities/<int:pk>/move-stage/", api.MoveStageView.as_view(), name="api-opportunities-move-stage"),
    path("api/v1/opportunities/<int:pk>/win/", api.WinView.as_view(), name="api-opportunities-win"),
    path("api/v1/opportunities/<int:pk>/lose/", api.LoseView.as_view(), name="api-opportunities-lose"),
    # Competitors (COMP-1, COMP-2, SAL-11) and sales plans (SAL-7)
    path("sales/products/<int:pk>/compare/", compplan_views.product_compare, name="sales-product-compare"),
    path("sales/competitor-products/<int:pk>/compare/", compplan_views.competitor_product_compare,
         name="sales-competitor-product-compare"),
    path("sales/competitors/win-loss/", compplan_views.competitor_analysis, name="sales-competitor-analysis"),
    path("sales/lost-analysis/", compplan_views.lost_analysis, name="sales-lost-analysis"),
    path("sales/plans/actual/", compplan_views.plan_actual, name="sales-plan-actual"),
    path("sales/plans/grid/", compplan_views.plan_grid, name="sales-plan-grid"),
    path("api/v1/competitor-win-loss/", compplan_api.CompetitorAnalysisView.as_view(), name="api-competitor-win-loss"),
    path("api/v1/lost-analysis/", compplan_api.LostAnalysisView.as_view(), name="api-lost-analysis"),
    path("api/v1/products/<int:pk>/competitor-comparison/", compplan_api.ComparisonView.as_view(),
         name="api-products-competitor-comparison"),
    path("api/v1/plan-vs-actual/", compplan_api.PlanActualView.as_view(), name="api-plan-vs-actual"),
    path("api/v1/plan-metrics/", compplan_api.PlanMetricsView.as_view(), name="api-plan-metrics"),
]
