from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/badge/", views.badge, name="notification-badge"),
    path("notifications/read-all/", views.notification_read_all, name="notifications-read-all"),
    path("notifications/preferences/", views.preferences, name="notification-preferences"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
]

api_urlpatterns = [
    path("api/v1/notifications/", views.NotificationListAPIView.as_view(), name="api-notifications"),
    path("api/v1/notifications/unread-count/", views.UnreadCountAPIView.as_view(), name="api-notifications-unread"),
    path("api/v1/notifications/read-all/", views.MarkAllReadAPIView.as_view(), name="api-notifications-read-all"),
    path("api/v1/notifications/<int:pk>/read/", views.MarkReadAPIView.as_view(), name="api-notification-read"),
]
