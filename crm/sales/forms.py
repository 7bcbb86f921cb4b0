"""Forms of sales entities that differ from the generated ones: a competitor product's attributes
are edited as name=value lines, as a product's are (COMP-1)."""

from crm.catalog.forms import AttributesField
from crm.core.ui.forms import EntityForm, formfield

from .models import CompetitorProduct

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
