"""Forms of activities, tasks and appointments: the generated form plus the link to a record,
scoped pickers for people and contacts, and the calendar's conflict warning."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.ui.forms import EntityForm
from crm.core.ui.widgets import LookupSelect

from . import links
from .models import Activity, Appointment, Task
from .services import SCOPE_LABELS, conflicts_for, people_in_scope


class LookupSelectMultiple(LookupSelect):
    allow_multiple_selected = True

    def __init__(self, lookup_url, attrs=None):
        super().__init__(lookup_url, {**(attrs or {}), "multiple": True})

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        return getter(name) if getter else data.get(name)


class LinkedForm(EntityForm):
    """Base: `record_type` is the entity key ("customers"), `record_id` the record's id."""

    people_fields = ()
    people_error = _("%(value)s is not someone you may choose here: they are outside your data scope.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "record_type" in self.fields:
            self.fields["record_type"] = forms.ChoiceField(
                label=_("linked record type"), required=False,
                choices=[("", "---------")] + links.record_type_choices(self.user))
            if self.instance.pk and self.instance.record_type_id and not self.is_bound:
                self.initial["record_type"] = links.key_for_content_type(self.instance.record_type)
            self.fields["record_id"].widget = forms.NumberInput()
        for name in self.people_fields:
            if name in self.fields:
                field = self.fields[name]
                field.queryset = people_in_scope(self.user)
                field.widget = LookupSelectMultiple(reverse("employees-lookup"))
                field.widget.choices = field.choices
                field.error_messages["invalid_choice"] = self.people_error
        if "contacts" in self.fields:
            field = self.fields["contacts"]
            model = field.queryset.model
            field.queryset = model.objects.for_user(self.user, "view")
            field.widget = LookupSelectMultiple(reverse(f"{model.entity_spec.key}-lookup"))
            field.widget.choices = field.choices
            field.error_messages["invalid_choice"] = _("%(value)s is not a contact you may see.")

    def clean_record_type(self):
        key = self.cleaned_data.get("record_type")
        if not key:
            return None
        ct = links.content_type_for_key(key)
        if ct is None:
            raise forms.ValidationError(_("Activities cannot be linked to this kind of record."))
        return ct

    def service_data(self):
        data, m2m, version = super().service_data()
        for name in ("save_anyway",):
            m2m.pop(name, None)
            data.pop(name, None)
        return data, m2m, version


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django 5.2's documented pattern); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ActivityForm(LinkedForm):
    people_fields = ("participants",)
    files = MultipleFileField(label=_("Attachments"), required=False,
                              help_text=_("Several files at once; they are added to the activity's files."))

    class Meta:
        model = Activity
        fields = ["kind", "subject", "occurred_at", "duration_minutes", "record_type", "record_id", "participants",
                  "contacts", "outcome", "next_step", "latitude", "longitude", "accuracy_m", "address", "tags"]
        widgets = {"latitude": forms.HiddenInput, "longitude": forms.HiddenInput, "accuracy_m": forms.HiddenInput}

    def clean_files(self):
        from crm.core.attachments.services import check_files

        files = self.cleaned_data.get("files") or []
        if files:
            try:
                check_files(files)  # sizes here; the count against the record's files when saving
            except ValidationError as exc:
                raise forms.ValidationError(exc.message_dict["files"])
        return files

    def service_data(self):
        data, m2m, version = super().service_data()
        data.pop("files", None)
        m2m.pop("files", None)
        return data, m2m, version

    def after_save(self, obj):
        """Attach the chosen files, in the record's transaction (a refused file saves nothing)."""
        files = self.cleaned_data.get("files") or []
        if files:
            from django.core.exceptions import PermissionDenied

            from crm.core.attachments.services import upload

            try:
                upload(self.user, Activity.entity_spec.key, obj.pk, files)
            except PermissionDenied as exc:
                raise ValidationError({"files": [str(exc)]})


class TaskForm(LinkedForm):
    people_fields = ("assignees",)
    people_error = _("%(value)s cannot be given this task: they are outside your data scope.")

    class Meta:
        model = Task
        fields = ["title", "priority", "due_at", "remind_before", "assignees", "record_type", "record_id", "parent",
                  "description", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].help_text = _("Each assignee has their own status; left empty, the task is yours.")

    def clean_assignees(self):
        people = list(self.cleaned_data.get("assignees") or [])
        inactive = [p for p in people if not p.is_active]
        if inactive:
            raise forms.ValidationError(_("%(name)s is no longer active.") % {"name": inactive[0]})
        return people or ([self.user] if self.user else [])


class AppointmentForm(LinkedForm):
    people_fields = ("invitees",)
    save_anyway = forms.BooleanField(label=_("Save anyway, despite the overlaps"), required=False)

    class Meta:
        model = Appointment
        fields = ["title", "start_at", "end_at", "all_day", "location", "invitees", "remind_before", "repeat",
                  "repeat_interval", "repeat_count", "repeat_until", "record_type", "record_id", "description", "tags"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start_at"), data.get("end_at")
        if self.errors or not start or not end or end < start or data.get("save_anyway"):
            return data
        owner = self.instance.owner if self.instance.pk else self.user
        probe = Appointment(pk=self.instance.pk, start_at=start, end_at=end, repeat=data.get("repeat") or "",
                            repeat_interval=data.get("repeat_interval") or 1, repeat_count=data.get("repeat_count"),
                            repeat_until=data.get("repeat_until"))
        try:
            probe.clean()
        except ValidationError:
            return data  # invalid times or recurrence: the model's errors come first
        found = conflicts_for(self.user, probe, [owner, *data.get("invitees", [])])
        if found:
            self.conflicts = found
            lines = "; ".join(c["text"] for c in found[:10])
            raise forms.ValidationError(
                _("This appointment overlaps others: %(list)s. Tick “Save anyway” to keep it all the same.")
                % {"list": lines}, code="conflict")
        return data


class OccurrenceForm(forms.Form):
    """One occurrence of a recurring appointment: what changes, and for which occurrences."""

    title = forms.CharField(label=_("title"), max_length=200)
    start_at = forms.DateTimeField(label=_("start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                               format="%Y-%m-%dT%H:%M"))
    end_at = forms.DateTimeField(label=_("end"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                           format="%Y-%m-%dT%H:%M"))
    location = forms.CharField(label=_("location"), max_length=255, required=False)
    description = forms.CharField(label=_("description"), max_length=10000, required=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    scope = forms.ChoiceField(label=_("Apply to"), widget=forms.RadioSelect, choices=[
        (k, v) for k, v in SCOPE_LABELS.items()])
    save_anyway = forms.BooleanField(label=_("Save anyway, despite the overlaps"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("start_at") and data.get("end_at") and data["end_at"] < data["start_at"]:
            self.add_error("end_at", _("The appointment cannot end before it starts."))
        return data
