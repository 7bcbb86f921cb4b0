"""The product form: attributes edited as name=value lines."""

from django import forms

from crm.core.ui.forms import EntityForm, formfield

from .models import Product, parse_attributes


class AttributesField(forms.CharField):
    widget = forms.Textarea

    def __init__(self, **kwargs):
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        kwargs["required"] = False
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{k}={v}" for k, v in value.items())
        return value

    def clean(self, value):
        return parse_attributes(super().clean(value))


def _formfield(model_field, **kwargs):
    if model_field.name == "attributes":
        return AttributesField(label=model_field.verbose_name, help_text=model_field.help_text)
    return formfield(model_field, **kwargs)


class ProductForm(EntityForm):
    class Meta:
        model = Product
        fields = [
            "name", "mnemonic_code", "category", "specification", "attributes", "unit", "list_price", "cost",
            "tax_rate", "kind", "sourcing", "is_active", "tags", "description",
        ]
        formfield_callback = _formfield
