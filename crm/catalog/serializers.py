"""API serializers of price list items and stock levels: the generated ones, except that a
duplicate (one price per list and product, one stock level per warehouse and product) is
reported at the "product" field by the model's clean(), like in the form."""

from crm.core.api.serializers import EntitySerializer

from .models import PriceListItem, StockLevel

META = ["id", "display", "created_at", "updated_at", "created_by", "updated_by"]
READ_ONLY = ["created_at", "updated_at", "created_by", "updated_by"]


class PriceListItemSerializer(EntitySerializer):
    class Meta:
        model = PriceListItem
        fields = [*META, "price_list", "product", "price", "remark", "version"]
        read_only_fields = READ_ONLY
        validators = []


class StockLevelSerializer(EntitySerializer):
    class Meta:
        model = StockLevel
        fields = [*META, "warehouse", "product", "quantity", "location", "version"]
        read_only_fields = READ_ONLY
        validators = []
