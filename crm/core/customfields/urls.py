from django.urls import path

from . import views

urlpatterns = [
    path("settings/custom-fields/", views.index, name="customfields"),
    path("settings/custom-fields/<str:entity>/", views.entity_fields, name="customfields-entity"),
    path("settings/custom-fields/<str:entity>/new/", views.create, name="customfields-create"),
    path("settings/custom-fields/<str:entity>/<int:pk>/edit/", views.edit, name="customfields-edit"),
    path("settings/custom-fields/<str:entity>/<int:pk>/rename/", views.rename, name="customfields-rename"),
    path("settings/custom-fields/<str:entity>/<int:pk>/remove/", views.remove, name="customfields-remove"),
    path("settings/custom-fields/<str:entity>/<int:pk>/restore/", views.restore, name="customfields-restore"),
    path("settings/custom-fields/<str:entity>/<int:pk>/move/", views.move, name="customfields-move"),
]
