"""Shapes of the labeling workflow API (queue, assignments, annotations, review, predictions)."""

from rest_framework import serializers

from core.serializers import StrictInputSerializer

from ..models import Annotation, AnnotationRevision, Assignment, Item, Prediction, ReviewDecision
from ..pii.services import pii_result_for_viewer
from . import payloads

# --- inputs -----------------------------------------------------------------------------------------


class HeartbeatInputSerializer(StrictInputSerializer):
    active_ms = serializers.IntegerField(
        min_value=0, default=0, help_text="Focused milliseconds since last call."
    )


class DraftInputSerializer(StrictInputSerializer):
    draft = serializers.JSONField(help_text="Work in progress: {control name: answer}; not validated.")
    active_ms = serializers.IntegerField(min_value=0, default=0)


class SkipInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why you skip (shown to managers).")


class SubmitInputSerializer(StrictInputSerializer):
    result = serializers.JSONField(help_text="{control name: answer}, validated against the newest schema.")
    idempotency_key = serializers.CharField(
        max_length=100, required=False, help_text="Or the Idempotency-Key header. A retry with it is a no-op."
    )
    base_revision = serializers.IntegerField(
        min_value=0, required=False, allow_null=True, help_text="For a correction: the revision you edited."
    )
    prediction = serializers.IntegerField(
        required=False, allow_null=True, help_text="The prediction you started from."
    )
    active_ms = serializers.IntegerField(min_value=0, default=0)
    next = serializers.BooleanField(
        default=False,
        help_text="Also lease your next item: the response carries it under `next`, as POST queue/next/ "
        "answers (or ?next=1). One round trip per annotation.",
    )


class ReviewDecisionInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.Decision.choices)
    revision = serializers.IntegerField(min_value=1, help_text="The annotation revision you reviewed.")
    reason = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    comment = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    result = serializers.JSONField(required=False, help_text="For fix: the corrected result.")


class ItemsWorkflowInputSerializer(StrictInputSerializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100_000
    )
    priority = serializers.IntegerField(required=False, min_value=-1_000_000, max_value=1_000_000)
    pool = serializers.CharField(required=False, allow_blank=True, max_length=100)
    is_gold = serializers.BooleanField(required=False)


class EscalateInputSerializer(StrictInputSerializer):
    annotators = serializers.IntegerField(min_value=1, max_value=20, default=1)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class PredictionsInputSerializer(StrictInputSerializer):
    predictions = serializers.JSONField(
        help_text='[{"item": id or "external_id": str, "model", "model_version", "score", "result"}]'
    )


# --- outputs ----------------------------------------------------------------------------------------


def _viewer(context: dict):
    """Who will read the payload: the context's `viewer`, else the request's user; None (treated as
    an annotator by the personal-data masking) when neither is known."""
    if "viewer" in context:
        return context["viewer"]
    request = context.get("request")
    return getattr(request, "user", None)


class TaskItemSerializer(serializers.ModelSerializer):
    """The item as an annotator sees it: data and media, no workflow internals (gold stays hidden)."""

    # Documentation of the shape: payloads.task_item builds it (context: viewer, project).

    media_url = serializers.CharField(allow_null=True, read_only=True)
    media = serializers.DictField(
        child=serializers.FloatField(),
        read_only=True,
        help_text="What the server checks regions against: width, height (px), duration (s), frame_count.",
    )

    class Meta:
        model = Item
        fields = ["id", "external_id", "data", "meta", "media_type", "media_url", "media"]
        read_only_fields = fields

    def to_representation(self, instance: Item) -> dict:
        return payloads.task_item(instance, viewer=_viewer(self.context), project=self.context.get("project"))


class PredictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prediction
        fields = ["id", "item", "model_name", "model_version", "score", "result", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance: Prediction) -> dict:
        return payloads.prediction_payload(
            instance, viewer=_viewer(self.context), project=self.context.get("project")
        )


class RevisionSerializer(serializers.ModelSerializer):
    # `result` with personal-data placeholders for viewers who must not see the values (annotation/pii).
    author = serializers.CharField(source="author.username")
    schema_version = serializers.IntegerField(source="schema_version.version")
    guideline_version = serializers.IntegerField(source="guideline_version.version", allow_null=True)

    class Meta:
        model = AnnotationRevision
        fields = ["number", "kind", "author", "result", "schema_version", "guideline_version", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance: AnnotationRevision) -> dict:
        out = super().to_representation(instance)
        out["result"] = pii_result_for_viewer(
            item=instance.annotation.item, viewer=_viewer(self.context), result=out["result"]
        )
        return out


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = ReviewDecision
        fields = ["id", "annotation", "decision", "revision", "reason", "comment", "reviewer", "created_at"]
        read_only_fields = fields


class AnnotationSerializer(serializers.ModelSerializer):
    # Documentation of the shape: payloads.annotation_payload builds it (context: viewer, project).

    annotator = serializers.CharField(source="annotator.username")
    schema_version = serializers.IntegerField(source="schema_version.version")
    guideline_version = serializers.IntegerField(source="guideline_version.version", allow_null=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "item",
            "annotator",
            "result",
            "revision",
            "schema_version",
            "guideline_version",
            "review",
            "prediction",
            "lead_ms",
            "active_ms",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Annotation) -> dict:
        return payloads.annotation_payload(
            instance, viewer=_viewer(self.context), project=self.context.get("project")
        )


class CorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField()
    comment = serializers.CharField()
    reviewer = serializers.CharField()
    at = serializers.DateTimeField()


class AssignmentSerializer(serializers.ModelSerializer):
    # Documentation of the shape: payloads.assignment_payload builds it (context: schema, viewer,
    # project). A list reads what selectors.labeling.assignment_list_for_annotator loaded (no query
    # per row); a single assignment (next item, retrieve) is read with one query per field.

    item = TaskItemSerializer()
    schema = serializers.DictField(allow_null=True, read_only=True)
    annotation = AnnotationSerializer(allow_null=True, read_only=True)
    correction = CorrectionSerializer(allow_null=True, read_only=True)
    prediction = PredictionSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "status",
            "item",
            "leased_at",
            "lease_expires_at",
            "draft",
            "draft_saved_at",
            "active_ms",
            "schema",
            "annotation",
            "correction",
            "prediction",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Assignment) -> dict:
        return payloads.assignment_payload(
            instance,
            schema=self.context.get("schema"),
            viewer=_viewer(self.context),
            project=self.context.get("project"),
        )


class NextItemSerializer(serializers.Serializer):
    assignment = AssignmentSerializer(allow_null=True)
    reason = serializers.CharField(help_text="When there is no item: queue_empty or quota_reached.")
    resumed = serializers.BooleanField()


class SubmittedAndNextSerializer(AnnotationSerializer):
    next = NextItemSerializer(
        required=False, help_text="Only when asked for (`next`): your next item, as POST queue/next/ answers."
    )

    class Meta(AnnotationSerializer.Meta):
        fields = [*AnnotationSerializer.Meta.fields, "next"]
        read_only_fields = fields


class ReviewTaskSerializer(serializers.Serializer):
    item = TaskItemSerializer(allow_null=True)
    item_state = serializers.CharField(allow_null=True)
    annotations = AnnotationSerializer(many=True)
    reason = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    items = serializers.DictField(child=serializers.IntegerField())
    total_items = serializers.IntegerField()
    completed_share = serializers.FloatField()
    apart = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Items outside the state counts: gold (checks, never completed) and excluded.",
    )
    annotations = serializers.DictField(child=serializers.IntegerField())
    leased_now = serializers.IntegerField()
    mine = serializers.DictField(child=serializers.IntegerField(), required=False)
