"""The rule form: the entity is picked from the registered entities."""

from django import forms

from ..entities.registry import all_specs
from ..ui.forms import EntityForm
from .models import NumberingRule
from .registration import FIELDS


class NumberingRuleForm(EntityForm):
    class Meta:
        model = NumberingRule
        fields = FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["entity"]
        choices = sorted(((s.key, f"{s.label_plural} ({s.key})") for s in all_specs()), key=lambda c: c[1])
        current = self.instance.entity
        if current and current not in dict(choices):
            choices.append((current, current))
        self.fields["entity"] = forms.ChoiceField(
            label=field.label, help_text=field.help_text, choices=[("", "---------")] + choices
        )
