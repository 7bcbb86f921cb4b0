"""Products (产品数据, SYS-8): a category tree, products, price lists per customer level,
warehouses and stock levels. A product's cost is hidden without the special permission
"see_cost" (SEC-1): `EntitySpec.protected_fields` in registration.py."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.dictionary.fields import DictionaryField
from crm.core.dictionary.parameters import param
from crm.core.entities.base import Entity, EntityQuerySet, TimestampedMixin, VersionedMixin
from crm.core.entities.trees import TreeNode
from crm.core.pinyin import initials

NOT_NEGATIVE = [MinValueValidator(0)]
MAX_ATTRIBUTES = 30


class ProductCategory(TimestampedMixin, VersionedMixin, TreeNode):
    """A node of the product category tree. `path` is the materialised path `/1/4/9/`."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent category"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self):
        return self.name

    def clean(self):
        if self.moves_under_itself():
            raise ValidationError({"parent": _("A category cannot be moved under itself or one of its subcategories.")})


class ProductKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")


class Sourcing(models.TextChoices):
    OWN = "own", _("Own product")
    OUTSOURCED = "outsourced", _("Outsourced")
    CONSIGNED = "consigned", _("Consigned")


def default_tax_rate():
    return param("default_tax_rate")


def parse_attributes(text):
    """`name=value` lines as a dict; raises ValidationError naming the bad line."""
    result = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ValidationError(_("Line %(line)d: write name=value.") % {"line": number})
        result[name.strip()] = value.strip()
    validate_attributes(result)
    return result


def validate_attributes(value):
    if not isinstance(value, dict):
        raise ValidationError(_("Attributes are pairs of a name and a value."))
    if len(value) > MAX_ATTRIBUTES:
        raise ValidationError(_("At most %(count)d attributes.") % {"count": MAX_ATTRIBUTES})
    for name, val in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 50:
            raise ValidationError(_("An attribute name has 1 to 50 characters."))
        if not isinstance(val, str) or len(val) > 200:
            raise ValidationError(_("An attribute value is a text of at most 200 characters."))


class Product(Entity):
    """A product or service we sell (产品)."""

    code = models.CharField(_("product number"), max_length=30, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    mnemonic_code = models.CharField(
        _("mnemonic code"), max_length=30, blank=True, db_index=True,
        help_text=_("Left blank, the pinyin initials of the name are used."),
    )
    category = models.ForeignKey(
        ProductCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="products",
    )
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    attributes = models.JSONField(
        _("attributes"), default=dict, blank=True, validators=[validate_attributes],
        help_text=_("One name=value per line, e.g. colour=black."),
    )
    unit = DictionaryField(_("unit"), kind="unit", default="piece")
    list_price = models.DecimalField(_("list price"), max_digits=16, decimal_places=4, default=0,
                                     validators=NOT_NEGATIVE)
    cost = models.DecimalField(_("cost"), max_digits=16, decimal_places=4, default=0, validators=NOT_NEGATIVE)
    tax_rate = models.DecimalField(
        _("tax rate"), max_digits=5, decimal_places=4, default=default_tax_rate,
        validators=[MinValueValidator(0), MaxValueValidator(1)], help_text=_("As a fraction: 0.13 is 13%."),
    )
    kind = models.CharField(_("product kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.GOODS)
    sourcing = models.CharField(_("sourcing"), max_length=12, choices=Sourcing.choices, default=Sourcing.OWN)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="prod_updated"),
            models.Index(fields=["department", "updated_at", "id"], name="prod_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="prod_owner_updated"),
            models.Index(fields=["name", "id"], name="prod_name"),
        ]

    def __str__(self):
        return f"{self.name} {self.specification}".strip()

    def clean(self):
        super().clean()
        if not self.mnemonic_code and self.name:
            self.mnemonic_code = initials(self.name)[:30]

    def after_create(self, user):
        if not self.code:  # no active numbering rule for products: a stable fallback
            self.code = f"P{self.pk:07d}"
            Product.all_objects.filter(pk=self.pk).update(code=self.code)


class PriceList(TimestampedMixin, VersionedMixin, models.Model):
    """Prices for one customer level (价格表), e.g. 战略客户价."""

    name = models.CharField(_("name"), max_length=100)
    customer_level = DictionaryField(_("customer level"), kind="customer_level", blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self):
        return self.name

    def clean(self):
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity cannot be before its start.")})


class PriceListItem(TimestampedMixin, VersionedMixin, models.Model):
    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), on_delete=models.CASCADE,
                                   related_name="items")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price"), max_digits=16, decimal_places=4, validators=NOT_NEGATIVE)
    remark = models.CharField(_("remark"), max_length=200, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [models.UniqueConstraint(fields=["price_list", "product"], name="one_price_per_list_product")]

    def __str__(self):
        return f"{self.price_list} · {self.product}"

    def clean(self):
        if self.price_list_id and self.product_id and PriceListItem.objects.filter(
            price_list_id=self.price_list_id, product_id=self.product_id
        ).exclude(pk=self.pk).exists():
            raise ValidationError({"product": _("This product already has a price in this price list.")})

    def get_constraints(self):
        # The duplicate is reported at the product field by clean(); the database still guards it.
        return [(m, [c for c in cs if c.name != "one_price_per_list_product"]) for m, cs in super().get_constraints()]


class Warehouse(TimestampedMixin, VersionedMixin, models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_dealer = models.BooleanField(_("dealer warehouse"), default=False,
                                    help_text=_("Stock reported by a dealer."))

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self):
        return self.name


class StockLevel(TimestampedMixin, VersionedMixin, models.Model):
    """How many of one product one warehouse holds (库存)."""

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.CASCADE,
                                  related_name="stock")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2, default=Decimal(0),
                                   validators=NOT_NEGATIVE)
    location = models.CharField(_("storage location"), max_length=100, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [models.UniqueConstraint(fields=["warehouse", "product"], name="one_stock_per_warehouse_product")]

    def __str__(self):
        return f"{self.warehouse} · {self.product}"

    def clean(self):
        if self.warehouse_id and self.product_id and StockLevel.objects.filter(
            warehouse_id=self.warehouse_id, product_id=self.product_id
        ).exclude(pk=self.pk).exists():
            raise ValidationError({"product": _("This warehouse already has a stock level for this product.")})

    def get_constraints(self):
        return [(m, [c for c in cs if c.name != "one_stock_per_warehouse_product"]) for m, cs in super().get_constraints()]
