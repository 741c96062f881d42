from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictInputSerializer

from ...models import Item, MetadataField
from ...pii.services import pii_masked_data


class ItemOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = [
            "id", "external_id", "data", "meta", "split", "source", "source_ref", "import_job", "licence",
            "consent", "synthetic", "generator", "content_hash", "checksum", "predictions", "created_at",
            "media_type", "media_bytes", "media_src", "state", "target", "done", "leased", "priority", "pool",
            "is_gold", "excluded", "provenance_source",
        ]  # fmt: skip
        read_only_fields = fields

    media_src = serializers.SerializerMethodField(
        help_text="Where the browser gets the item's media (GET, permission-checked); null without media."
    )

    def to_representation(self, item):
        out = super().to_representation(item)
        project = self.context.get("project")
        if project is not None:  # reviewers with settings.privacy.mask_for_reviewers get placeholders
            out["data"] = pii_masked_data(item=item, viewer=self.context.get("viewer"), project=project)
        return out

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_src(self, item):
        if not (item.media or item.media_url):
            return None
        return f"/api/projects/{item.project_id}/items/{item.id}/media/"


class MetadataFieldOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetadataField
        fields = ["id", "name", "type", "inferred", "categories"]
        read_only_fields = fields


class MetadataFieldUpdateInputSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=MetadataField.Type.choices)
