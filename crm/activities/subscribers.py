"""After-commit reactions (events of crm.core.events): assignees hear about their new task, and
contacts met in an activity get their "last follow-up" date."""

from crm.core.events.bus import subscribe


@subscribe("tasks.created")
@subscribe("tasks.updated")
def tell_assignees(event):
    from .reminders import notify_new_assignments

    notify_new_assignments(task_ids=[event.object_id])


@subscribe("activities.created")
@subscribe("activities.updated")
def touch_contacts_met(event):
    from .models import Activity

    activity = Activity.all_objects.filter(pk=event.object_id).first()
    if activity is not None:
        activity.touch_contacts()
