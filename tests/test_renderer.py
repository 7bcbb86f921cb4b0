"""The fast form renderer (issue #3) produces exactly the markup of Django's widget templates."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from crm.core.ui.renderer import FastWidgetRenderer


class Everything(forms.Form):
    text = forms.CharField(max_length=20, help_text="x")
    email = forms.EmailField(required=False)
    number = forms.DecimalField(min_value=0, decimal_places=2)
    hidden = forms.CharField(widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}))
    when = forms.DateTimeField(required=False)
    pick = forms.ChoiceField(choices=[("", "---"), ("a", "A & <b>"), ("b", '"B"')])
    grouped = forms.ChoiceField(choices=[("Fruit", [("1", "苹果"), ("2", "梨")]), ("3", "Other")])
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)  # not built in: goes through the templates


@pytest.mark.parametrize("data", [
    None,
    {"text": 'a"<script>', "number": "1.5", "hidden": "h&h", "flag": "on", "day": "2026-01-02",
     "when": "2026-01-02 03:04", "pick": "a", "grouped": "2", "many": ["x", "y"], "notes": "<n>"},
])
def test_same_markup_as_django_templates(data):
    initial = {"day": datetime.date(2026, 11, 23), "pick": "b"}
    fast = Everything(data=data, initial=initial, renderer=FastWidgetRenderer())
    slow = Everything(data=data, initial=initial, renderer=DjangoTemplates())
    for name in Everything.base_fields:
        assert str(fast[name]) == str(slow[name]), name
    assert "&lt;script&gt;" in str(fast["text"]) or data is None
