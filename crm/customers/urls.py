from django.urls import path

from . import api, views

KEY = "<str:key>"

urlpatterns = [
    path("pool/", views.index, name="pool-index"),
    path("pool/<int:pk>/<str:key>/", views.pool_list, name="pool-list"),
    path(f"pool/{KEY}/claim/", views.bulk_claim, name="pool-bulk-claim"),
    path(f"pool/{KEY}/assign/", views.bulk_assign, name="pool-bulk-assign"),
    path(f"pool/{KEY}/<int:pk>/claim/", views.claim, name="pool-claim"),
    path(f"pool/{KEY}/<int:pk>/release/", views.release, name="pool-release"),
    path(f"pool/{KEY}/<int:pk>/assign/", views.assign, name="pool-assign"),
    path(f"pool/{KEY}/<int:pk>/move/", views.move, name="pool-move"),
    # API actions beside the generated endpoints (/api/v1/pools/, /api/v1/pool-rules/)
    path(f"api/v1/pool/{KEY}/claim/", api.BulkClaimView.as_view(), name="api-pool-bulk-claim"),
    path(f"api/v1/pool/{KEY}/assign/", api.BulkAssignView.as_view(), name="api-pool-bulk-assign"),
    path(f"api/v1/pool/{KEY}/<int:pk>/claim/", api.ClaimView.as_view(), name="api-pool-claim"),
    path(f"api/v1/pool/{KEY}/<int:pk>/release/", api.ReleaseView.as_view(), name="api-pool-release"),
    path(f"api/v1/pool/{KEY}/<int:pk>/assign/", api.AssignView.as_view(), name="api-pool-assign"),
    path(f"api/v1/pool/{KEY}/<int:pk>/move/", api.MoveView.as_view(), name="api-pool-move"),
    path(f"api/v1/pool/{KEY}/", api.PoolRecordsView.as_view(), name="api-pool-records"),
]
