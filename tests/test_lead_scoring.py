"""Lead scoring (LEAD-3): rules defined by administrators give points, the score (0–100) and the
grade (A/B/C/D by system parameters) are computed on every save, after activities on the lead
and by the nightly job; the lead's page explains the score; the list sorts and filters by it;
bad rules and thresholds are refused at their field with nothing written."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.activities.models import Activity
from crm.core.dictionary.parameters import param
from crm.core.entities import services
from crm.core.jobs.testing import jobs_of, run_jobs
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.sales.models import Lead, LeadScoringRule
from crm.sales.tasks import rescore_leads

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(admin):
    def rule(name, **fields):
        return services.create(admin, LeadScoringRule, {"name": name, **fields})

    return {
        "expo": rule("展会来源", kind="equals", field="source", value="exhibition", points=20),
        "mfg": rule("制造业", kind="equals", field="industry", value="manufacturing,energy", points=10),
        "email": rule("有邮箱", kind="filled", field="email", points=5),
        "city": rule("上海", kind="equals", field="city", value="上海", points=15),
        "busy": rule("近期跟进", kind="activities", points=5, days=30, cap=15),
        "spam": rule("免费邮箱", kind="equals", field="campaign_code", value="SPAM", points=-50),
    }


def log_activity(user, lead, days_ago=0):
    return services.create(user, Activity, {
        "subject": "电话", "record_type": ContentType.objects.get_for_model(Lead), "record_id": lead.pk,
        "occurred_at": timezone.now() - datetime.timedelta(days=days_ago)})


def test_score_and_grade_are_computed_on_save(admin, rules):
    lead = services.create(admin, Lead, {"name": "张三", "source": "exhibition", "industry": "energy",
                                         "email": "z@example.com"})
    assert (lead.score, lead.grade) == (35, "C")  # 20 + 10 + 5; C from 20, B from 50
    assert {d["name"]: d["points"] for d in lead.score_details} == {"展会来源": 20, "制造业": 10, "有邮箱": 5}
    lead = services.update(admin, Lead, lead.pk, {"city": "上海"})
    assert (lead.score, lead.grade) == (50, "B")
    lead = services.update(admin, Lead, lead.pk, {"campaign_code": "spam"})  # case does not matter
    assert (lead.score, lead.grade) == (0, "D")  # never below 0
    plain = services.create(admin, Lead, {"name": "李四"})
    assert (plain.score, plain.grade, plain.score_details) == (0, "D", [])


def test_a_typed_score_is_not_taken(admin, rules):
    api = api_as(admin)
    r = api.post("/api/v1/leads/", {"name": "王五", "source": "exhibition", "score": 99, "grade": "A"})
    assert r.status_code == 201
    assert (r.json()["score"], r.json()["grade"]) == (20, "C")
    page = browser(admin).post("/leads/new/", {"name": "赵六", "score": "99", "status": "new"})
    assert page.status_code == 302
    assert Lead.objects.get(name="赵六").score == 0


def test_activities_on_the_lead_change_the_score_up_to_the_cap(admin, rules):
    lead = services.create(admin, Lead, {"name": "张三", "source": "exhibition"})
    assert lead.score == 20
    log_activity(admin, lead)
    assert Lead.objects.get(pk=lead.pk).score == 25
    log_activity(admin, lead, days_ago=40)  # outside the 30 days
    assert Lead.objects.get(pk=lead.pk).score == 25
    for _ in range(3):
        log_activity(admin, lead)
    lead.refresh_from_db()
    assert lead.score == 35  # 4 recent × 5 = 20, capped at 15
    assert {d["name"]: (d["points"], d.get("count")) for d in lead.score_details}["近期跟进"] == (15, 4)
    version = lead.version
    services.delete(admin, Activity, Activity.objects.filter(record_id=lead.pk).order_by("pk").first().pk)
    lead.refresh_from_db()
    assert lead.score == 35 and lead.version == version  # 3 recent still hit the cap; no version bump


def test_nightly_job_rescores_in_batches_when_activities_age(admin, rules):
    from crm.sales import scoring

    lead = services.create(admin, Lead, {"name": "张三"})
    log_activity(admin, lead, days_ago=20)
    log_activity(admin, lead, days_ago=25)
    assert Lead.objects.get(pk=lead.pk).score == 10
    others = [Lead.objects.create(name=f"L{i}", owner=admin, department=admin.department, source="exhibition")
              for i in range(5)]  # written directly: never scored
    assert all(o.score == 0 for o in others)
    later = timezone.now() + datetime.timedelta(days=8)
    result = scoring.rescore_all(now=later)
    assert result["leads"] == 6 and result["changed"] == 6
    assert Lead.objects.get(pk=lead.pk).score == 5  # one activity aged out of its 30 days
    assert set(Lead.objects.filter(pk__in=[o.pk for o in others]).values_list("score", flat=True)) == {20}


def test_rule_changes_and_threshold_changes_rescore_through_the_job(admin, rules):
    lead = services.create(admin, Lead, {"name": "张三", "source": "exhibition"})
    assert lead.grade == "C"
    services.update(admin, LeadScoringRule, rules["expo"].pk, {"points": 60})
    assert jobs_of(rescore_leads)  # queued after commit
    run_jobs()
    assert Lead.objects.get(pk=lead.pk).score == 60 and Lead.objects.get(pk=lead.pk).grade == "B"
    r = api_as(admin).patch("/api/v1/parameters/", {"lead_grade_b": 70, "lead_grade_a": 55})
    assert r.status_code == 200 and param("lead_grade_a") == 55
    from crm.sales.scoring import rescore_all

    rescore_all()
    assert Lead.objects.get(pk=lead.pk).grade == "A"  # the A threshold is checked first


def test_lead_page_explains_the_score_and_the_list_sorts_and_filters(admin, rules):
    hot = services.create(admin, Lead, {"name": "热线索", "source": "exhibition", "city": "上海",
                                        "industry": "manufacturing", "email": "a@b.cn"})
    services.create(admin, Lead, {"name": "冷线索"})
    assert (hot.score, hot.grade) == (50, "B")
    page = browser(admin).get(f"/leads/{hot.pk}/").content.decode()
    assert 'data-panel="score"' in page and "展会来源" in page and "+20" in page and "+15" in page
    listing = browser(admin).get("/leads/", {"sort": "-score", "cols": "name,score,grade"}).content.decode()
    assert listing.index("热线索") < listing.index("冷线索")
    filtered = browser(admin).get("/leads/", {"grade": "B"}).content.decode()
    assert "热线索" in filtered and "冷线索" not in filtered
    api = api_as(admin)
    names = [r["name"] for r in api.get("/api/v1/leads/", {"score__gte": 30}).json()["results"]]
    assert names == ["热线索"]
    assert [r["name"] for r in api.get("/api/v1/leads/", {"sort": "score"}).json()["results"]] == ["冷线索", "热线索"]
    assert [r["name"] for r in api.get("/api/v1/leads/", {"sort": "-score"}).json()["results"]] == ["热线索", "冷线索"]


def test_scope_of_the_explanation_follows_the_lead(admin, depts, rules):
    owner = make_user("own", depts["sales1"], {"leads": Scope.OWN})
    stranger = make_user("stranger", depts["south"], {"leads": Scope.OWN})
    lead = services.create(owner, Lead, {"name": "张三", "source": "exhibition"})
    assert browser(stranger).get(f"/leads/{lead.pk}/").status_code == 404
    assert api_as(stranger).get(f"/api/v1/leads/{lead.pk}/").status_code == 404


# --- Bad input ----------------------------------------------------------------------------------

def test_bad_rules_are_refused_at_their_field_and_nothing_is_written(admin):
    api = api_as(admin)
    for payload, field in (
        ({"name": "X", "kind": "equals", "field": "source", "value": "nonsense"}, "value"),
        ({"name": "X", "kind": "equals", "field": "industry", "value": ""}, "value"),
        ({"name": "X", "kind": "equals", "field": ""}, "field"),
        ({"name": "X", "kind": "filled", "field": "salary"}, "field"),
        ({"name": "X", "kind": "equals", "field": "source", "value": "exhibition", "points": 101}, "points"),
        ({"name": "X", "kind": "activities", "points": 0}, "points"),
        ({"name": "X", "kind": "activities", "points": 5, "days": 0}, "days"),
    ):
        r = api.post("/api/v1/lead-scoring-rules/", payload)
        assert r.status_code == 400, payload
        assert list(r.json()["error"]["fields"]) == [field], (payload, r.json())
    assert not LeadScoringRule.objects.exists()
    page = browser(admin).post("/lead-scoring-rules/new/", {"name": "X", "kind": "equals", "field": "industry",
                                                          "value": "steel", "points": "5", "days": "30",
                                                          "sort_order": "0", "is_active": "on"})
    assert page.status_code in (200, 400) and "steel" in page.content.decode()
    assert not LeadScoringRule.objects.exists()


def test_negative_or_too_high_thresholds_are_refused(admin):
    api = api_as(admin)
    r = api.patch("/api/v1/parameters/", {"lead_grade_a": -5, "lead_grade_c": 101})
    assert r.status_code == 400
    assert set(r.json()["error"]["fields"]) == {"lead_grade_a", "lead_grade_c"}
    assert (param("lead_grade_a"), param("lead_grade_c")) == (80, 20)
