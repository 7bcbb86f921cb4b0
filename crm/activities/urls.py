from django.urls import path

from . import api, links, views

urlpatterns = [
    path("tasks/mine/", views.task_lists, name="tasks-mine"),
    path("tasks/mine/<str:tab>/", views.task_lists, name="tasks-tab"),
    path("tasks/<int:pk>/status/", views.task_status, name="task-status"),
    path("tasks/<int:pk>/split/", views.task_split, name="task-split"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/events/", views.calendar_events, name="calendar-events"),
    path("calendar/events/<int:pk>/move/", views.calendar_move, name="calendar-move"),
    path("appointments/<int:pk>/occurrence/", views.appointment_occurrence, name="appointment-occurrence"),
    path("api/v1/appointments/<int:pk>/occurrence/", api.AppointmentOccurrenceView.as_view(),
         name="api-appointments-occurrence"),
    path("api/v1/appointments/<int:pk>/cancel-occurrence/", api.AppointmentCancelOccurrenceView.as_view(),
         name="api-appointments-cancel-occurrence"),
    path("calendar/subscribe/", views.calendar_subscribe, name="calendar-subscribe"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("activities/check-in/", views.check_in, name="check-in"),
]
urlpatterns += [
    path(f"{spec.key}/<int:pk>/log-activity/", views.log_activity, {"key": spec.key}, name=f"{spec.key}-log-activity")
    for spec in links.linkable_specs()
]
