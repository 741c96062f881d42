"""Shapes of the labeling workflow API (queue, assignments, annotations, review, predictions)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictInputSerializer

from ..models import Annotation, AnnotationRevision, Assignment, Item, Prediction, ReviewDecision
from ..pii.services import pii_masked_data, pii_result_for_viewer
from .services.labeling import media_facts
from .services.queue import prediction_for
from .services.review import last_rejection

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


class TaskItemSerializer(serializers.ModelSerializer):
    """The item as an annotator sees it: data and media, no workflow internals (gold stays hidden).

    `data` carries `[EMAIL]`-style placeholders when the project masks personal data for the
    context's `viewer` (annotation/pii; no viewer: treated as an annotator, so a caller that forgets
    it masks rather than leaks)."""

    media_url = serializers.SerializerMethodField()
    media = serializers.SerializerMethodField()

    class Meta:
        model = Item
        fields = ["id", "external_id", "data", "meta", "media_type", "media_url", "media"]
        read_only_fields = fields

    def to_representation(self, item: Item) -> dict:
        out = super().to_representation(item)
        out["data"] = pii_masked_data(  # personal data (#18): placeholders for viewers who must not see it
            item=item, viewer=self.context.get("viewer"), project=self.context.get("project")
        )
        return out

    @extend_schema_field(serializers.DictField(child=serializers.FloatField()))
    def get_media(self, item: Item) -> dict:
        """What the server checks regions against: width, height (px), duration (s), frame_count."""
        return media_facts(item)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_url(self, item: Item) -> str | None:
        if not (item.media or item.media_url):
            return None
        return reverse("item-media", kwargs={"project_pk": item.project_id, "item_pk": item.id})


def _viewer(context: dict):
    """Who will read the payload: the context's `viewer`, else the request's user; None (treated as
    an annotator by the personal-data masking) when neither is known."""
    if "viewer" in context:
        return context["viewer"]
    request = context.get("request")
    return getattr(request, "user", None)


class _MaskedResult:
    """`result` with personal-data placeholders for viewers who must not see the values (annotation/pii)."""

    def to_representation(self, instance):
        out = super().to_representation(instance)  # type: ignore[misc]
        out["result"] = pii_result_for_viewer(
            item=self._item(instance),
            viewer=_viewer(self.context),
            result=out["result"],  # type: ignore[attr-defined]
        )
        return out

    def _item(self, instance):
        return instance.item


class PredictionSerializer(_MaskedResult, serializers.ModelSerializer):
    class Meta:
        model = Prediction
        fields = ["id", "item", "model_name", "model_version", "score", "result", "created_at"]
        read_only_fields = fields


class RevisionSerializer(_MaskedResult, serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    schema_version = serializers.IntegerField(source="schema_version.version")
    guideline_version = serializers.IntegerField(source="guideline_version.version", allow_null=True)

    class Meta:
        model = AnnotationRevision
        fields = ["number", "kind", "author", "result", "schema_version", "guideline_version", "created_at"]
        read_only_fields = fields

    def _item(self, instance):
        return instance.annotation.item


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = ReviewDecision
        fields = ["id", "annotation", "decision", "revision", "reason", "comment", "reviewer", "created_at"]
        read_only_fields = fields


class AnnotationSerializer(_MaskedResult, serializers.ModelSerializer):
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


class CorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField()
    comment = serializers.CharField()
    reviewer = serializers.CharField()
    at = serializers.DateTimeField()


class AssignmentSerializer(serializers.ModelSerializer):
    item = TaskItemSerializer()
    schema = serializers.SerializerMethodField()
    annotation = serializers.SerializerMethodField()
    correction = serializers.SerializerMethodField()
    prediction = serializers.SerializerMethodField()

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

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_schema(self, assignment: Assignment) -> dict | None:
        schema = self.context.get("schema")
        return {"version": schema.version, "definition": schema.definition} if schema else None

    # Lists read what selectors.labeling.assignment_list_for_annotator loaded (no query per row);
    # a single assignment (next item, retrieve) is read with one query per field as before.

    def _annotation(self, assignment: Assignment) -> Annotation | None:
        if assignment.status not in (Assignment.Status.SUBMITTED, Assignment.Status.CORRECTION):
            return None  # leased, skipped or expired assignments have no annotation
        if Assignment.annotation.is_cached(assignment):
            try:
                return assignment.annotation
            except Annotation.DoesNotExist:
                return None
        return (
            Annotation.objects.select_related("annotator", "schema_version", "guideline_version")
            .filter(assignment=assignment)
            .first()
        )

    @extend_schema_field(AnnotationSerializer(allow_null=True))
    def get_annotation(self, assignment: Assignment) -> dict | None:
        annotation = self._annotation(assignment)
        return AnnotationSerializer(annotation, context=self.context).data if annotation else None

    @extend_schema_field(CorrectionSerializer(allow_null=True))
    def get_correction(self, assignment: Assignment) -> dict | None:
        if assignment.status != Assignment.Status.CORRECTION:
            return None
        annotation = self._annotation(assignment)
        if annotation is not None and hasattr(annotation, "rejections"):
            decision = annotation.rejections[0] if annotation.rejections else None
        else:
            decision = last_rejection(annotation) if annotation else None
        if decision is None:
            return None
        return {
            "reason": decision.reason,
            "comment": decision.comment,
            "reviewer": decision.reviewer.username,
            "at": decision.created_at,
        }

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_prediction(self, assignment: Assignment) -> dict | None:
        offered = getattr(assignment.item, "offered_predictions", None)
        if offered is not None:
            prediction = offered[0] if offered else None
        else:
            prediction = prediction_for(assignment.item)
        return PredictionSerializer(prediction, context=self.context).data if prediction else None


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
