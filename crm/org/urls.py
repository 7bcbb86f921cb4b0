from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import territory_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")), name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("org/tree/", views.department_tree, name="org-tree"),
    path("org/logins/", views.login_history, name="login-history"),
    path("roles/<int:pk>/permissions/", views.role_permissions, name="role-permissions"),
    path("employees/<int:pk>/handover/", views.handover, name="employee-handover"),
    path("employees/<int:pk>/password/", views.set_password, name="employee-password"),
    # Territories (SAL-9): the tree page and the re-territory trigger, beside the generated pages
    path("org/territories/", territory_views.territory_tree, name="org-territories"),
    path("org/territories/reterritory/", territory_views.territory_reterritory, name="org-territories-reterritory"),
    path("api/v1/territories/reterritory/", territory_views.ReterritoryView.as_view(),
         name="api-territories-reterritory"),
]
