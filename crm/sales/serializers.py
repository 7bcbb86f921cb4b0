"""API serializers of leads and opportunities: the generated shape plus the read-only state the
sales operations set (status, close time, conversion links)."""

from rest_framework import serializers

from crm.core.api.serializers import EntitySerializer, TagListField

from .models import Competitor, Lead, Opportunity

META = ["id", "display", "code", "owner", "department", "created_at", "updated_at", "created_by", "updated_by"]


class LeadSerializer(EntitySerializer):
    tags = TagListField(required=False)

    class Meta:
        model = Lead
        state = ["last_activity_at", "web_form", "converted_at", "converted_customer", "converted_contact",
                 "converted_opportunity",
                 "score", "grade", "score_details", "scored_at"]  # LEAD-3: computed by the scoring rules
        fields = [*META, "name", "company", "title", "mobile", "phone", "email", "province", "city", "industry",
                  "source", "campaign_code", "status", "next_follow_up", "tags", "notes",
                  "territory", "territory_fixed",  # SAL-9
                  *state, "version"]
        read_only_fields = [*META[2:], *state]


class OpportunitySerializer(EntitySerializer):
    tags = TagListField(required=False)
    competitors = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Competitor.objects.all(),
        help_text="Competitors in the deal (ids of competitors you may see); threat levels and notes: "
                  "/api/v1/opportunity-competitors/.")

    class Meta:
        model = Opportunity
        state = ["status", "closed_at", "stage_entered_at", "last_activity_at"]
        fields = [*META, "name", "customer", "pipeline", "stage", "amount", "probability", "start_date",
                  "expected_close_date", "next_step", "contacts", "team_members", "competitors", "lost_reason",
                  "lost_to", "tags", "description", *state, "version"]
        read_only_fields = [*META[2:], *state]


# --- Competitors and plans (COMP-2, SAL-7): a duplicate is reported at its field by the model's
# clean() (as in the form), not as DRF's generic "must make a unique set". ---
from .models import OpportunityCompetitor, SalesPlan  # noqa: E402,I001

STAMPS = ["id", "display", "created_at", "updated_at", "created_by", "updated_by"]


class OpportunityCompetitorSerializer(EntitySerializer):
    class Meta:
        model = OpportunityCompetitor
        fields = [*STAMPS, "opportunity", "competitor", "threat_level", "notes", "version"]
        read_only_fields = STAMPS[2:]
        validators = []


class SalesPlanSerializer(EntitySerializer):
    class Meta:
        model = SalesPlan
        fields = [*STAMPS, "scope", "employee", "department", "period_kind", "period_start", "metric", "target",
                  "notes", "version"]
        read_only_fields = STAMPS[2:]
        validators = []
