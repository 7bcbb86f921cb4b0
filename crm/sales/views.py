"""Sales pages: the pipeline board (kanban) and its move endpoint, the funnel, the lead
conversion wizard, lead assignment, won/lost, and the public lead web form."""

import time

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.core.access.scope import can, get_for_user_or_404
from crm.core.audit.log import client_ip
from crm.core.dictionary import lookup
from crm.core.dictionary.fields import DictionaryChoiceField
from crm.core.entities.duplicates import find_duplicates
from crm.core.entities.registry import get_spec
from crm.core.ui import cells
from crm.core.ui.links import pk_link
from crm.customers.models import Contact, Customer

from . import reports, services
from .models import Lead, LeadWebForm, Opportunity, Pipeline, Stage, StageKind, WebFormSubmission

try:
    from csp.decorators import csp_replace
except ImportError:  # pragma: no cover
    def csp_replace(_config):
        return lambda view: view


def _need(user, key, action="view"):
    if not can(user, key, action):
        raise PermissionDenied(_("You do not have permission to do this."))


def _errors(exc):
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v.messages] if hasattr(v, "messages") else [str(x) for x in v]
                for k, v in exc.message_dict.items()}
    return {"__all__": exc.messages}


def _owner_choice(params):
    """The employee the owner filter holds, for its one pre-rendered option (the picker loads the
    others as the user types: `owner_lookup`)."""
    owner = params.get("owner")
    if not (owner and str(owner).isdigit()):
        return None
    return get_user_model().objects.filter(pk=int(owner)).only("id", "name", "username").first()


@login_required
def owner_lookup(request):
    """Active employees matching what was typed, for the board's and the funnel's owner filter
    (a page listed every active employee as an <option>: ~200 at the benchmark's scale)."""
    _need(request.user, "opportunities")
    q = (request.GET.get("q") or "").strip()[:50]
    users = get_user_model().objects.filter(is_active=True)
    if q:
        users = users.filter(Q(name__icontains=q) | Q(username__icontains=q))
    rows = users.order_by("name", "pk").only("id", "name", "username")[:20]
    return JsonResponse({"results": [{"value": u.pk, "text": str(u)} for u in rows]})


# --- Board ----------------------------------------------------------------------------------

@login_required
def kanban_default(request):
    _need(request.user, "opportunities")
    pipeline = services.default_pipeline()
    if pipeline is None:
        return render(request, "sales/no_pipeline.html", {})
    return redirect("sales-kanban-pipeline", pk=pipeline.pk)


def _totals_json(totals):
    return {str(k): {"count": v["count"], "total": cells.format_value(v["total"]),
                     "weighted": cells.format_value(v["weighted"])} for k, v in totals.items()}


# One card of the board, built in Python: a template renders ~12 nodes a card, and a board of 500
# opportunities spent most of its time there (issue #3, the kanban budget).
CARD = ('<article class="sales-card card card-body p-2 mb-2" data-id="{}" data-version="{}" data-testid="card-{}" '
        'data-move-url="{}" data-lose-url="{}"><a class="fw-semibold text-decoration-none" href="{}">{}</a>'
        '<div class="small text-muted">{}</div>'
        '<div class="small d-flex justify-content-between"><span>{}</span><span>{}</span></div>'
        '<div class="small text-muted">{}</div></article>')


@login_required
def kanban(request, pk):
    _need(request.user, "opportunities")
    pipeline = get_object_or_404(Pipeline, pk=pk)
    columns = reports.board(request.user, pipeline, request.GET)
    # A board holds hundreds of cards: their links are built from one reversed pattern each and
    # their amounts formatted here, not per card in the template (the benchmark's kanban budget).
    urls = {name: pk_link(name) for name in ("opportunities-detail", "sales-opportunity-move", "sales-opportunity-lose")}
    for col in columns:
        col["cards"] = [{
            "pk": o.pk, "version": o.version, "name": o.name, "customer": str(o.customer), "owner": str(o.owner or ""),
            "amount": f"{o.amount:,.2f}", "close": o.expected_close_date.isoformat(),
            "url": urls["opportunities-detail"].format(o.pk), "move_url": urls["sales-opportunity-move"].format(o.pk),
            "lose_url": urls["sales-opportunity-lose"].format(o.pk),
        } for o in col["cards"]]
        col["cards_html"] = format_html_join("", CARD, ((c["pk"], c["version"], c["pk"], c["move_url"], c["lose_url"], c["url"],
                                                     c["name"], c["customer"], c["amount"], c["close"], c["owner"])
                                                    for c in col["cards"]))
    return render(request, "sales/kanban.html", {
        "pipeline": pipeline, "pipelines": Pipeline.objects.filter(is_active=True), "columns": columns,
        "params": request.GET, "owner_choice": _owner_choice(request.GET),
        "can_edit": can(request.user, "opportunities", "edit"),
        "can_create": can(request.user, "opportunities", "create"),
        "query": request.GET.urlencode(),
    })


@login_required
@require_POST
def move(request, pk):
    """The board's drag: POST stage + version. JSON answer: the new version and column totals, or
    an error message (409 when someone changed the opportunity since the board was loaded)."""
    _need(request.user, "opportunities", "edit")
    try:
        version = int(request.POST.get("version", ""))
        stage_pk = int(request.POST.get("stage", ""))
    except ValueError:
        return JsonResponse({"error": _("The request is incomplete; reload the page.")}, status=400)
    try:
        opp = services.move_stage(request.user, pk, stage_pk, version)
    except services.ConflictError:
        return JsonResponse({"error": _("Someone else changed this opportunity since you loaded the board. "
                                        "Reload the page to see the current state.")}, status=409)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(m for ms in _errors(exc).values() for m in ms)}, status=400)
    params = {k: v for k, v in request.POST.items() if k in ("owner", "q", "close_from", "close_to", "department")}
    pipeline = Pipeline.objects.get(pk=opp.pipeline_id)
    return JsonResponse({"version": opp.version, "probability": opp.effective_probability,
                         "columns": _totals_json(reports.column_totals(request.user, pipeline, params))})


# --- Funnel ---------------------------------------------------------------------------------

@login_required
def funnel(request):
    _need(request.user, "opportunities")
    pipelines = list(Pipeline.objects.filter(is_active=True))
    chosen = request.GET.get("pipeline")
    pipeline = next((p for p in pipelines if str(p.pk) == chosen), None) or services.default_pipeline()
    if pipeline is None:
        return render(request, "sales/no_pipeline.html", {})
    data = reports.funnel(request.user, pipeline, request.GET)
    return render(request, "sales/funnel.html", {
        "pipeline": pipeline, "pipelines": pipelines, "data": data, "chart": reports.chart_data(data),
        "params": request.GET, "owner_choice": _owner_choice(request.GET),
        "territories": _territories(),  # SAL-9
    })


def _territories():
    from crm.org.models import Territory

    return Territory.objects.filter(is_active=True).order_by("path").only("id", "name", "depth", "path")[:500]


# --- Leads ----------------------------------------------------------------------------------

class ConvertForm(forms.Form):
    customer = forms.TypedChoiceField(label=gettext_lazy("Customer"), coerce=str, required=True)
    contact = forms.TypedChoiceField(label=gettext_lazy("Contact"), coerce=str, required=True)
    create_opportunity = forms.BooleanField(label=gettext_lazy("Create an opportunity"), required=False, initial=True)
    name = forms.CharField(label=gettext_lazy("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=16, decimal_places=2, required=False)
    stage = forms.ChoiceField(label=gettext_lazy("Pipeline and stage"), required=False)
    expected_close_date = forms.DateField(label=gettext_lazy("Expected close date"), required=False,
                                          widget=forms.DateInput(attrs={"type": "date"}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, customers=(), contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("new", _("Create a new customer"))] + [
            (str(c.pk), _("Use existing: %(name)s") % {"name": c}) for c in customers]
        self.fields["contact"].choices = [("new", _("Create a new contact"))] + [
            (str(c.pk), _("Use existing: %(name)s (%(customer)s)") % {"name": c, "customer": c.customer})
            for c in contacts]
        self.fields["stage"].choices = [
            (p.name, [(str(s.pk), s.name) for s in p.stages.all() if s.kind == StageKind.OPEN])
            for p in Pipeline.objects.filter(is_active=True).prefetch_related("stages")]
        for name, field in self.fields.items():
            css = "form-check-input" if name == "create_opportunity" else (
                "form-select" if isinstance(field, forms.ChoiceField) else "form-control")
            field.widget.attrs["class"] = css


def _convert_candidates(user, lead):
    customers = [c for c, _rules in find_duplicates(user, get_spec(Customer), services._customer_probe(lead)).visible]
    probe = Contact(name=lead.name, mobile=lead.mobile, email=lead.email)
    contacts = [c for c, _rules in find_duplicates(user, get_spec(Contact), probe).visible]
    return customers, contacts


@login_required
def lead_convert(request, pk):
    _need(request.user, "leads", "edit")
    lead = get_for_user_or_404(request.user, Lead, pk, "edit")
    if lead.is_converted:
        messages.error(request, _("This lead was already converted."))
        return redirect("leads-detail", pk=lead.pk)
    customers, contacts = _convert_candidates(request.user, lead)
    initial = {"customer": str(customers[0].pk) if customers else "new",
               "contact": str(contacts[0].pk) if contacts else "new",
               "name": lead.company or lead.name, "version": lead.version,
               "stage": str(getattr(services.first_stage(services.default_pipeline()), "pk", ""))
               if services.default_pipeline() else ""}
    form = ConvertForm(request.POST or None, initial=initial, customers=customers, contacts=contacts)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        opportunity = None
        if d["create_opportunity"]:
            stage = Stage.objects.filter(pk=d["stage"]).first() if d["stage"] else None
            opportunity = {"name": d["name"] or lead.company or lead.name, "amount": d["amount"] or 0,
                           "expected_close_date": d["expected_close_date"], "stage": stage,
                           "pipeline": stage.pipeline if stage else None}
        try:
            result = services.convert(
                request.user, lead.pk,
                customer=None if d["customer"] == "new" else int(d["customer"]),
                contact=None if d["contact"] == "new" else int(d["contact"]),
                opportunity=opportunity, expected_version=d["version"],
            )
        except services.ConflictError:
            form.add_error(None, _("Someone else changed this lead meanwhile. Reload the page and try again."))
            status = 409
        except ValidationError as exc:
            for field, errs in _errors(exc).items():
                target = {"expected_close_date": "expected_close_date", "amount": "amount", "name": "name",
                          "stage": "stage", "pipeline": "stage", "contact": "contact"}.get(field)
                form.add_error(target, errs)
            status = 400
        else:
            messages.success(request, _("The lead was converted."))
            if result["opportunity"] is not None:
                return redirect("opportunities-detail", pk=result["opportunity"].pk)
            return redirect("customers-detail", pk=result["customer"].pk)
    elif request.method == "POST":
        status = 400
    return render(request, "sales/lead_convert.html", {"lead": lead, "form": form}, status=status)


@login_required
def lead_assign(request, pk):
    _need(request.user, "leads", "assign")
    lead = get_for_user_or_404(request.user, Lead, pk, "assign")
    error = None
    if request.method == "POST":
        owner = None
        if request.POST.get("by_rules") != "1":
            owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
            if owner is None:
                error = _("Choose an active user.")
        if error is None:
            try:
                lead = services.assign(request.user, lead.pk, owner, (request.POST.get("reason") or "")[:200])
            except ValidationError as exc:
                error = " ".join(m for ms in _errors(exc).values() for m in ms)
            else:
                messages.success(request, _("“%(name)s” now belongs to %(owner)s.") % {"name": lead, "owner": lead.owner})
                return redirect("leads-detail", pk=lead.pk)
    return render(request, "sales/lead_assign.html", {
        "lead": lead, "error": error,
        "users": get_user_model().objects.filter(is_active=True).select_related("department").order_by("username")[:1000],
    }, status=400 if error else 200)


# --- Won / lost -----------------------------------------------------------------------------

class LoseForm(forms.Form):
    lost_reason = DictionaryChoiceField(kind="lost_reason", blank=False, label=gettext_lazy("Lost reason"))
    lost_to = forms.ModelChoiceField(label=gettext_lazy("Competitor lost to"), required=False, queryset=None)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Competitor

        # SAL-11: a competitor record the user may see (the service checks it again).
        self.fields["lost_to"].queryset = Competitor.objects.for_user(user).order_by("name", "pk")


@login_required
def opportunity_win(request, pk):
    _need(request.user, "opportunities", "edit")
    opp = get_for_user_or_404(request.user, Opportunity, pk, "edit")
    error = None
    if request.method == "POST":
        try:
            services.win(request.user, opp.pk, int(request.POST.get("version") or 0))
        except services.ConflictError:
            error = _("Someone else changed this opportunity meanwhile. Reload the page and try again.")
        except ValidationError as exc:
            error = " ".join(m for ms in _errors(exc).values() for m in ms)
        else:
            messages.success(request, _("“%(name)s” is won.") % {"name": opp})
            return redirect("opportunities-detail", pk=opp.pk)
    return render(request, "sales/opportunity_win.html", {"opp": opp, "error": error}, status=400 if error else 200)


@login_required
def opportunity_lose(request, pk):
    _need(request.user, "opportunities", "edit")
    opp = get_for_user_or_404(request.user, Opportunity, pk, "edit")
    form = LoseForm(request.POST or None, initial={"version": opp.version}, user=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.lose(request.user, opp.pk, d["version"], d["lost_reason"], d["lost_to"])
        except services.ConflictError:
            form.add_error(None, _("Someone else changed this opportunity meanwhile. Reload the page and try again."))
            status = 409
        except ValidationError as exc:
            for field, errs in _errors(exc).items():
                form.add_error(field if field in form.fields else None, errs)
            status = 400
        else:
            messages.success(request, _("“%(name)s” is lost.") % {"name": opp})
            return redirect("opportunities-detail", pk=opp.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "sales/opportunity_lose.html", {"opp": opp, "form": form}, status=status)


# --- Public web form --------------------------------------------------------------------------

WEB_FORM_MIN_SECONDS = 2  # a person takes longer than this to fill the form in; a bot does not
WEB_FORM_MAX_AGE = 24 * 3600
WEB_FORM_RATE = (5, 600)  # at most 5 posts per address and form in 10 minutes
HONEYPOT = "website"


class WebLeadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    company = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    mobile = forms.CharField(label=gettext_lazy("Mobile"), max_length=30, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    province = forms.CharField(label=gettext_lazy("Province"), max_length=60, required=False)
    city = forms.CharField(label=gettext_lazy("City"), max_length=60, required=False)
    message = forms.CharField(label=gettext_lazy("Message"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if not data.get("mobile") and not data.get("email"):
            raise ValidationError(_("Give a mobile number or an e-mail address."))
        return data


def form_stamp(web_form, at=None):
    return signing.dumps({"f": web_form.pk, "at": int(at if at is not None else time.time())}, salt="sales.webform")


def _stamp_ok(web_form, raw):
    try:
        data = signing.loads(raw or "", salt="sales.webform", max_age=WEB_FORM_MAX_AGE)
    except signing.BadSignature:
        return False
    return data.get("f") == web_form.pk and time.time() - data.get("at", 0) >= WEB_FORM_MIN_SECONDS


@csrf_exempt  # embedded on other sites: the signed stamp, the honeypot and the rate limit guard it
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
def web_form(request, token):
    wf = LeadWebForm.objects.filter(token=token, is_active=True).first()
    if wf is None:
        raise Http404
    source = request.GET.get("source") or request.POST.get("source") or ""
    campaign = (request.GET.get("campaign") or request.POST.get("campaign") or "")[:50]
    if source and lookup.item("lead_source", source) is None:
        source = ""
    form = WebLeadForm(request.POST or None)
    ctx = {"wf": wf, "form": form, "source": source, "campaign": campaign, "stamp": form_stamp(wf),
           "honeypot": HONEYPOT}
    if request.method != "POST":
        return render(request, "sales/web_form.html", ctx)
    ip = client_ip(request)
    since = timezone.now() - timezone.timedelta(seconds=WEB_FORM_RATE[1])
    if WebFormSubmission.objects.filter(web_form=wf, ip=ip, at__gte=since).count() >= WEB_FORM_RATE[0]:
        ctx["error"] = _("Too many submissions from your address. Please try again later.")
        return render(request, "sales/web_form.html", ctx, status=429)
    spam = bool(request.POST.get(HONEYPOT)) or not _stamp_ok(wf, request.POST.get("stamp"))
    submission = WebFormSubmission.objects.create(web_form=wf, ip=ip)
    if spam:
        ctx["error"] = _("Your submission could not be accepted. Please reload the page and try again.")
        return render(request, "sales/web_form.html", ctx, status=400)
    if not form.is_valid():
        return render(request, "sales/web_form.html", ctx, status=400)
    d = form.cleaned_data
    try:
        services.capture(wf, {"name": d["name"], "company": d["company"], "mobile": d["mobile"], "email": d["email"],
                              "province": d["province"], "city": d["city"], "notes": d["message"],
                              "source": source, "campaign_code": campaign}, ip=ip)
    except ValidationError as exc:
        for field, errs in _errors(exc).items():
            form.add_error(field if field in form.fields else None, errs)
        return render(request, "sales/web_form.html", ctx, status=400)
    WebFormSubmission.objects.filter(pk=submission.pk).update(accepted=True)
    return render(request, "sales/web_form_done.html", {"wf": wf})


@login_required
def web_form_preview(request, pk):
    _need(request.user, "lead-web-forms")
    wf = get_object_or_404(LeadWebForm, pk=pk)
    return redirect(reverse("sales-web-form", kwargs={"token": wf.token}))
