from django.urls import path

from . import api, views

urlpatterns = [
    path("attachments/<int:ct>/<int:pk>/upload/", views.upload, name="attachments-upload"),
    path("attachments/<int:pk>/delete/", views.delete, name="attachment-delete"),
    path("attachments/<int:pk>/download/", views.download, name="attachment-download"),
]

api_urlpatterns = [
    path("api/v1/attachments/", api.AttachmentListAPIView.as_view(), name="api-attachments"),
    path("api/v1/attachments/<int:pk>/", api.AttachmentDetailAPIView.as_view(), name="api-attachment"),
    path("api/v1/attachments/<int:pk>/download/", api.AttachmentDownloadAPIView.as_view(),
         name="api-attachment-download"),
]
