"""The generated serializer treats "code" as a read-only record number; an item's code is typed
by the administrator (and fixed afterwards, see DictionaryItem.clean)."""

from ..api.serializers import EntitySerializer
from .models import DictionaryItem


class DictionaryItemSerializer(EntitySerializer):
    class Meta:
        model = DictionaryItem
        fields = ["id", "display", "kind", "code", "label_zh", "label_en", "order", "is_active", "created_at",
                  "updated_at", "version"]
        read_only_fields = ["created_at", "updated_at"]
