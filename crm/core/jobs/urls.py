from django.urls import path

from . import views

urlpatterns = [
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs/live/", views.jobs_live, name="jobs-live"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/periodic/<str:name>/run/", views.periodic_run, name="periodic-run"),
]

api_urlpatterns = [
    path("api/v1/jobs/", views.JobListAPIView.as_view(), name="api-jobs"),
    path("api/v1/jobs/<int:pk>/", views.JobDetailAPIView.as_view(), name="api-job"),
    path("api/v1/jobs/<int:pk>/retry/", views.JobRetryAPIView.as_view(), name="api-job-retry"),
]
