"""Customers and contacts (CUS-1, CUS-2, CUS-4)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.core.dictionary.fields import DictionaryField
from crm.core.entities.duplicates import company_name_key
from crm.core.entities.base import Entity
from crm.core.entities.trees import creates_cycle
from crm.core.fields import CreditCodeField, PhoneField
from crm.core.pinyin import initials
from crm.org.territories import assign_territory, keep_hand_choice

from .pool_models import PoolFieldsMixin  # the public pool (CUS-9); also registers its models


# The codes of the customer pick lists as seeded into the data dictionary (SYS-6) by
# crm/core/migrations; the dictionary is the source of truth (administrators may relabel,
# reorder, disable and add items). These constants remain for code that needs a known code
# (demo data, benchmarks).
class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    IT = "it", _("IT and software")
    FINANCE = "finance", _("Finance and insurance")
    RETAIL = "retail", _("Retail and wholesale")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    CONSTRUCTION = "construction", _("Construction and real estate")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy")
    GOVERNMENT = "government", _("Government and public sector")
    SERVICES = "services", _("Professional services")
    OTHER = "other", _("Other")


class Level(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    IMPORTANT = "important", _("Important")
    NORMAL = "normal", _("Normal")
    SMALL = "small", _("Small")


class CustomerType(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Individual")
    GOVERNMENT = "government", _("Government or institution")
    DEALER = "dealer", _("Dealer")


class CustomerStatus(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    ACTIVE = "active", _("Transacting")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    EXHIBITION = "exhibition", _("Exhibition")
    CAMPAIGN = "campaign", _("Marketing campaign")
    COLD_CALL = "cold_call", _("Cold call")
    WECHAT = "wechat", _("WeChat")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Customer(Entity, PoolFieldsMixin):
    """A customer (客户): a company or a person we sell to."""

    code = models.CharField(_("customer number"), max_length=30, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    # The name as the duplicate check compares it (CUS-3): see crm.core.entities.duplicates.
    name_key = models.CharField(_("name for the duplicate check"), max_length=200, blank=True, editable=False)
    mnemonic_code = models.CharField(
        _("mnemonic code"), max_length=30, blank=True, db_index=True,
        help_text=_("Left blank, the pinyin initials of the name are used."),
    )
    # Pick lists of the data dictionary (SYS-6): the record stores the item code.
    customer_type = DictionaryField(_("customer type"), kind="customer_type", default="company")
    level = DictionaryField(_("customer level"), kind="customer_level", default="normal")
    status = DictionaryField(_("customer status"), kind="customer_status", default="potential")
    industry = DictionaryField(_("industry"), kind="industry", blank=True)
    source = DictionaryField(_("source"), kind="customer_source", blank=True)
    credit_rating = DictionaryField(_("credit rating"), kind="credit_rating", blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=16, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    credit_code = CreditCodeField(_("unified social credit code"), blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent company"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    phone = PhoneField(_("main phone"), blank=True)
    finance_phone = PhoneField(_("finance phone"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True, default="中国")
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    address = models.CharField(_("office address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    notes = models.TextField(_("notes"), blank=True)
    # Set by crm.activities when an activity is logged on the record (ACT-1, CUS-10).
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True, editable=False,
                                            db_index=True)  # care rules: customers quiet for N days (CUS-11)
    # Territory (SAL-9): matched from region, industry and level (crm.org.territories), unless fixed by hand.
    territory = models.ForeignKey("org.Territory", verbose_name=_("territory"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  db_index=False)  # "cust_territory_updated" leads with it
    territory_fixed = models.BooleanField(
        _("territory fixed by hand"), default=False,
        help_text=_("Keep the territory chosen here; otherwise it follows the territories' criteria."))
    TERRITORY_FIELDS = {"province": "province", "city": "city", "industry": "industry", "level": "level"}

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="cust_updated"),
            models.Index(fields=["department", "updated_at", "id"], name="cust_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="cust_owner_updated"),
            models.Index(fields=["name", "id"], name="cust_name"),
            # Every sort the list offers has its index, or sorting a million rows takes a second.
            models.Index(fields=["created_at", "id"], name="cust_created"),
            models.Index(fields=["registered_at", "id"], name="cust_registered"),
            models.Index(fields=["credit_limit", "id"], name="cust_credit_limit"),
            models.Index(fields=["phone"], name="cust_phone"),
            models.Index(fields=["credit_code"], name="cust_credit_code"),
            models.Index(fields=["name_key"], name="cust_name_key"),
            models.Index(Lower("email"), name="cust_email_ci"),
            # The recycle bin and its retention read only binned rows, newest / oldest first.
            models.Index(fields=["deleted_at", "id"], name="cust_binned", condition=models.Q(deleted_at__isnull=False)),
            models.Index(fields=["territory", "updated_at", "id"], name="cust_territory_updated"),  # SAL-9
            # The public pool's page (CUS-9): a pool's unowned records, newest first.
            models.Index(fields=["pool", "updated_at", "id"], name="cust_in_pool", condition=models.Q(owner__isnull=True)),
        ]

    display_fields = ("name",)  # what __str__ reads (select_for_display)

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        assign_territory(self)  # SAL-9
        if not self.mnemonic_code and self.name:
            self.mnemonic_code = initials(self.name)
        self.name_key = company_name_key(self.name)
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A company cannot be its own parent.")})
        if creates_cycle(Customer, self.pk, self.parent_id, "parent"):
            raise ValidationError({"parent": _("This parent company would create a cycle in the hierarchy.")})

    def before_write(self, user):
        keep_hand_choice(self, user)  # SAL-9

    def after_create(self, user):
        if not self.code:
            # No active numbering rule for customers (SYS-5): fall back to a stable number.
            self.code = f"C{self.pk:07d}"
            Customer.all_objects.filter(pk=self.pk).update(code=self.code)

    def after_soft_delete(self, user, when):
        # Contacts go to the recycle bin with their customer, and come back with it.
        Contact.objects.filter(customer=self).update(deleted_at=when, deleted_by=user)

    def after_restore(self, user, deleted_at):
        Contact.all_objects.filter(customer=self, deleted_at=deleted_at).update(deleted_at=None, deleted_by=None)

    def purge_dependants(self):
        # Purged with the customer: its contacts in the recycle bin (they cannot come back
        # without it). A live contact, or a child company, still protects the customer.
        return list(Contact.all_objects.filter(customer=self, deleted_at__isnull=False))


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")
    UNKNOWN = "", _("Not given")


class Contact(Entity):
    """A contact person (联系人) at a customer; `reports_to` gives the customer's org chart."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(pgettext_lazy("person name", "name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    dept = models.CharField(_("department"), max_length=100, blank=True)
    title = models.CharField(_("position"), max_length=100, blank=True)
    reports_to = models.ForeignKey(
        "self", verbose_name=_("reports to"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    is_primary = models.BooleanField(_("primary contact"), default=False)
    mobile = PhoneField(_("mobile"), blank=True)
    office_phone = PhoneField(_("office phone"), blank=True)
    home_phone = PhoneField(_("home phone"), blank=True)
    fax = PhoneField(_("fax"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=255, blank=True)
    preferences = models.CharField(_("preferences"), max_length=255, blank=True)
    notes = models.TextField(_("additional information"), blank=True)
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="cont_updated"),
            models.Index(fields=["created_at", "id"], name="cont_created"),
            models.Index(fields=["department", "updated_at", "id"], name="cont_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="cont_owner_updated"),
            models.Index(fields=["customer", "name"], name="cont_customer"),
            models.Index(fields=["name", "id"], name="cont_name"),
            models.Index(fields=["mobile"], name="cont_mobile"),
            models.Index(Lower("email"), name="cont_email_ci"),
            models.Index(fields=["deleted_at", "id"], name="cont_binned", condition=models.Q(deleted_at__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(is_primary=True, deleted_at__isnull=True),
                name="one_primary_contact_per_customer",
            )
        ]

    def __str__(self):
        return self.name

    def _age(self):
        if not self.birthday:
            return None
        today = date.today()
        return today.year - self.birthday.year - ((today.month, today.day) < (self.birthday.month, self.birthday.day))

    _age.short_description = _("age")
    age = property(_age)

    def clean(self):
        super().clean()
        if self.birthday and self.birthday > date.today():
            raise ValidationError({"birthday": _("The birthday cannot be in the future.")})
        if self.reports_to_id:
            boss = Contact.all_objects.filter(pk=self.reports_to_id).values_list("customer_id", flat=True).first()
            if self.customer_id and boss != self.customer_id:
                raise ValidationError({"reports_to": _("The manager must be a contact of the same customer.")})
            if creates_cycle(Contact, self.pk, self.reports_to_id, "reports_to"):
                raise ValidationError({"reports_to": _("This would create a cycle in the reporting line.")})

    def before_restore(self, user):
        if Customer.all_objects.filter(pk=self.customer_id, deleted_at__isnull=False).exists():
            raise ValidationError(_("Restore the customer %(customer)s first.") % {"customer": self.customer})

    def get_constraints(self):
        # Making a contact primary takes over from the previous one (before_write), so the
        # one-primary rule is no input error; the database constraint still guards the write.
        return [(model, [c for c in constraints if c.name != "one_primary_contact_per_customer"])
                for model, constraints in super().get_constraints()]

    def before_write(self, user):
        if self.is_primary:  # one primary contact per customer: the new one takes over
            Contact.objects.filter(customer_id=self.customer_id, is_primary=True).exclude(pk=self.pk).update(is_primary=False)
