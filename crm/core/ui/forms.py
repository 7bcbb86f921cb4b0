"""Forms generated from an EntitySpec. Pickers only offer records the user may see."""

from django import forms
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..access import links
from ..access.masking import can_reveal, hidden_fields
from ..customfields import forms as customfields
from ..dictionary.fields import DictionaryChoiceField
from ..entities.models import Tag
from ..entities.registry import get_spec
from .widgets import DateInput, DateTimeInput, LookupSelect, LookupSelectMultiple


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list; unknown tags are created."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate tags with commas."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(str(getattr(t, "name", t)) for t in value)
        return value

    def clean(self, value):
        value = super().clean(value) or ""
        names = []
        for part in value.replace("，", ",").split(","):
            part = part.strip()[:50]
            if part and part not in names:
                names.append(part)
        return names


def tags_from_names(names):
    return [Tag.objects.get_or_create(name=n)[0] for n in names]


class EntityForm(forms.ModelForm):
    """Base of generated forms: scoped pickers, masked phones kept unless retyped, version."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, spec=None, **kwargs):
        self.user = user
        self.spec = spec or get_spec(self._meta.model)
        self._scoped_links = []
        super().__init__(*args, **kwargs)
        for name in hidden_fields(user, self.spec):
            # A protected field (SEC-1) is absent for those who may not see it; the stored value is kept.
            self.fields.pop(name, None)
        if not self.spec.versioned:
            del self.fields["version"]
        elif self.instance.pk:
            self.fields["version"].initial = self.instance.version
        for name, field in self.fields.items():
            if customfields.is_custom(name):
                continue  # typed by crm.core.customfields; a user field offers active users
            model_field = _model_field(self._meta.model, name)
            if isinstance(field, forms.ModelMultipleChoiceField):
                self._scope_multi_picker(name, field)
            elif isinstance(field, forms.ModelChoiceField):
                self._scope_picker(name, field)
            elif isinstance(field, DictionaryChoiceField):
                # Active items, plus the record's current one if it was disabled since.
                field.for_value(getattr(self.instance, name, None) if self.instance.pk else None)
            elif isinstance(model_field, models.DateTimeField):
                field.widget = DateTimeInput()
            elif isinstance(model_field, models.DateField):
                field.widget = DateInput()
            elif isinstance(field.widget, forms.Textarea):
                field.widget.attrs.setdefault("rows", 3)
        if "tags" in self.fields:
            self.fields["tags"] = TagsField(label=_("tags"))
            if self.instance.pk:
                self.initial["tags"] = list(self.instance.tags.all())
        customfields.bind(self)  # SYS-11: initial custom values from the record
        self._mask_phones()

    def _scope_picker(self, name, field):
        related = field.queryset.model
        try:
            rspec = get_spec(related)
        except LookupError:
            return
        field.widget = LookupSelect(reverse(f"{rspec.key}-lookup"))
        field.queryset = related.objects.for_user(self.user, "view")  # also hands the widget its choices

    def _scope_multi_picker(self, name, field):
        """A many-to-many link to a registered entity offers the records the user may see; those
        linked that the user may not see are kept on save (`_post_clean`, crm.core.access.links)."""
        related = field.queryset.model
        if links.governs(related):
            field.widget = LookupSelectMultiple(reverse(f"{get_spec(related).key}-lookup"))
            field.queryset = links.offered(self.user, related)  # also hands the widget its choices
            self._scoped_links.append(name)

    def _mask_phones(self):
        """Users who may not see a phone number get an empty box showing the mask; left empty,
        the stored number is kept."""
        if not self.instance.pk or can_reveal(self.user, self.spec, self.instance):
            return
        for name in self.spec.masked_fields:
            if name in self.fields and getattr(self.instance, name):
                from ..access.masking import mask

                self.initial[name] = ""
                self.fields[name].widget.attrs["placeholder"] = mask(self.spec, name, getattr(self.instance, name))
                self.fields[name].help_text = _("Leave empty to keep the current number.")

    def kept_masked_fields(self):
        if not self.instance.pk or can_reveal(self.user, self.spec, self.instance):
            return set()
        return {n for n in self.spec.masked_fields if n in self.fields and getattr(self.instance, n)}

    def service_data(self):
        """(data, m2m, expected_version) for the write service."""
        data, m2m = {}, {}
        keep = self.kept_masked_fields()
        if hasattr(self.instance, "custom"):
            data["custom"] = self.instance.custom  # merged by _post_clean (SYS-11)
        for name, value in self.cleaned_data.items():
            if name == "version" or customfields.is_custom(name):
                continue
            if name == "tags":
                m2m["tags"] = tags_from_names(value)
                continue
            if name in keep and not value:
                continue
            field = _model_field(self._meta.model, name)
            if isinstance(field, models.DateTimeField) and _same_minute(self.initial.get(name), value):
                continue  # the box shows minutes; an untouched value keeps its seconds
            if field is None or field.many_to_many or field.one_to_many:
                m2m[name] = value
            else:
                data[name] = value
        return data, m2m, self.cleaned_data.get("version")

    def _post_clean(self):
        # Keep a masked number that was left empty, so model validation sees the stored value.
        for name in self.kept_masked_fields():
            if not self.cleaned_data.get(name):
                self.cleaned_data[name] = getattr(self.instance, name)
        for name in self._scoped_links:
            if name in self.cleaned_data:
                related = self.fields[name].queryset.model
                self.cleaned_data[name] = links.kept(self.user, related, self.instance, name, self.cleaned_data[name])
        customfields.apply(self)
        super()._post_clean()


def _same_minute(original, value):
    if original is None or value is None or not hasattr(original, "replace"):
        return False
    return original.replace(second=0, microsecond=0) == value


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def form_class(spec):
    custom = spec.override("forms", "Form")
    if custom is None:
        custom = forms.modelform_factory(spec.model, form=EntityForm, fields=spec.form_fields,
                                         formfield_callback=formfield)
    # Custom fields (SYS-11) are declared fields of the class: cache it per
    # (spec, crm.core.customfields.defs.version()); labels follow the active language.
    return customfields.with_custom_fields(custom, spec)


def formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")  # "example.com" means https://example.com
    return model_field.formfield(**kwargs)
