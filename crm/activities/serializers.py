"""API serializers of activities, tasks and appointments (picked up by the kernel by name).

`record_type` is the entity key of the linked record ("customers"), `record_id` its id; people
and contacts can only be chosen within the writer's data scope."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.core.api.serializers import EntitySerializer, TagListField

from . import links
from .models import Activity, Appointment, Task, TaskAssignment
from .services import conflicts_for, people_in_scope

META = ["id", "display", "owner", "department", "created_at", "updated_at", "created_by", "updated_by"]
READ_ONLY = ["owner", "department", "created_at", "updated_at", "created_by", "updated_by"]


class RecordTypeField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, allow_null=True, help_text=(
            "Entity key of the linked record (e.g. `customers`, `contacts`); `record_id` is its id."), **kwargs)

    def to_representation(self, value):
        return links.key_for_content_type(value) or None

    def to_internal_value(self, data):
        key = super().to_internal_value(data)
        if not key:
            return None
        ct = links.content_type_for_key(key)
        if ct is None:
            raise serializers.ValidationError(_("Activities cannot be linked to this kind of record."))
        return ct


class PeopleField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "User {pk_value} is outside your data scope or inactive."}

    def get_queryset(self):
        request = self.context.get("request")
        return people_in_scope(getattr(request, "user", None))


class LinkedSerializer(EntitySerializer):
    record_type = RecordTypeField()
    tags = TagListField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if "contacts" in self.fields and user is not None:
            model = Activity._meta.get_field("contacts").related_model
            self.fields["contacts"].child_relation.queryset = model.objects.for_user(user, "view")


def people(help_text):
    return serializers.ManyRelatedField(child_relation=PeopleField(queryset=get_user_model().objects.none()),
                                        required=False, help_text=help_text)


class ActivitySerializer(LinkedSerializer):
    participants = people("Ids of the colleagues who took part (within your data scope).")

    class Meta:
        model = Activity
        fields = META + ["kind", "subject", "occurred_at", "duration_minutes", "record_type", "record_id",
                         "participants", "contacts", "outcome", "next_step", "latitude", "longitude", "accuracy_m",
                         "address", "checked_in_at", "tags", "version"]
        read_only_fields = READ_ONLY + ["checked_in_at"]


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskAssignment
        fields = ["user", "status", "completed_at", "note"]
        read_only_fields = fields


class TaskSerializer(LinkedSerializer):
    assignees = people("Ids of the assignees (within your data scope); each has their own status. "
                       "Empty on create: the task is yours.")
    assignments = AssignmentSerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = META + ["title", "priority", "due_at", "remind_before", "remind_at", "assignees", "assignments",
                         "status", "completed_at", "record_type", "record_id", "parent", "description", "tags",
                         "version"]
        read_only_fields = READ_ONLY + ["remind_at", "status", "completed_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None and not attrs.get("assignees"):
            request = self.context.get("request")
            attrs["assignees"] = [request.user] if request else []
        return attrs


class AppointmentSerializer(LinkedSerializer):
    invitees = people("Ids of the invitees (within your data scope).")
    force = serializers.BooleanField(write_only=True, required=False, default=False, help_text=(
        "Save even though the appointment overlaps appointments of the owner or the invitees; without it "
        "such a write is refused (400, the overlaps listed at `start_at`)."))
    rrule = serializers.SerializerMethodField(help_text="The recurrence as an iCalendar RRULE, or empty.")

    class Meta:
        model = Appointment
        fields = META + ["title", "start_at", "end_at", "all_day", "location", "invitees", "remind_before",
                         "remind_at", "repeat", "repeat_interval", "repeat_count", "repeat_until", "rrule",
                         "exdates", "series", "recurrence_id", "record_type", "record_id", "description", "tags",
                         "force", "version"]
        read_only_fields = READ_ONLY + ["remind_at", "exdates", "series", "recurrence_id"]
        extra_kwargs = {"exdates": {"help_text": "Original starts (UTC, RFC 5545 form) the series no longer "
                                                 "produces: cancelled or detached occurrences."},
                        "series": {"help_text": "For a detached occurrence: its series."},
                        "recurrence_id": {"help_text": "For a detached occurrence: its start in the series."}}

    @extend_schema_field(serializers.CharField())
    def get_rrule(self, obj):
        return obj.rrule_string()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        force = attrs.pop("force", False)
        inst = self.instance
        start = attrs.get("start_at", getattr(inst, "start_at", None))
        end = attrs.get("end_at", getattr(inst, "end_at", None))
        if force or not start or not end or end < start:
            return attrs
        request = self.context.get("request")
        user = getattr(request, "user", None)
        probe = Appointment(pk=getattr(inst, "pk", None), start_at=start, end_at=end)
        for name in ("repeat", "repeat_interval", "repeat_count", "repeat_until"):
            setattr(probe, name, attrs.get(name, getattr(inst, name, None) if inst else None))
        probe.repeat = probe.repeat or ""
        probe.repeat_interval = probe.repeat_interval or 1
        invitees = attrs.get("invitees", list(inst.invitees.all()) if inst else [])
        owner = inst.owner if inst else user
        try:
            probe.clean()
        except DjangoValidationError:
            return attrs  # invalid times or recurrence: the write reports those first
        found = conflicts_for(user, probe, [owner, *invitees])
        if found:
            raise serializers.ValidationError({"start_at": [
                _("This appointment overlaps others: %(list)s. Send force=true to save it all the same.")
                % {"list": "; ".join(c["text"] for c in found[:10])}]})
        return attrs
