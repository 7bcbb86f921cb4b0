"""Forms of sales entities that differ from the generated ones: a competitor product's attributes
are edited as name=value lines, as a product's are (COMP-1); the opportunity form offers only the
competitors the user may see (COMP-2)."""

from functools import cache

from django import forms

from crm.catalog.forms import AttributesField
from crm.core.ui.forms import EntityForm, formfield

from .models import CompetitorProduct, Opportunity

COMPETITOR_PRODUCT_FIELDS = ["competitor", "name", "our_product", "use", "specification", "attributes",
                             "performance", "price", "currency", "strengths", "weaknesses"]


def _formfield(model_field, **kwargs):
    if model_field.name == "attributes":
        return AttributesField(label=model_field.verbose_name, help_text=model_field.help_text)
    return formfield(model_field, **kwargs)


class CompetitorProductForm(EntityForm):
    class Meta:
        model = CompetitorProduct
        fields = COMPETITOR_PRODUCT_FIELDS
        formfield_callback = _formfield


@cache
def _opportunity_form():
    from crm.core.entities.registry import get_spec

    return forms.modelform_factory(Opportunity, form=EntityForm, fields=get_spec(Opportunity).form_fields,
                                   formfield_callback=formfield)


def __getattr__(name):
    """`OpportunityForm`: the generated form with the spec's fields, built on first use (after the
    registration has listed them)."""
    if name == "OpportunityForm":
        return _opportunity_form()
    raise AttributeError(name)
