"""Thin HTTP adapters for the labeling workflow: queue, assignments, annotations, review, predictions.

Every rule lives in annotation.workflow.services.labeling / review / queue; these views check the role
(projects.access), parse input and shape output.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import DomainError
from core.pagination import DefaultPagination
from projects.access import ProjectAction

from ..items.api.views import _ProjectScoped
from ..models import Annotation, Assignment, Prediction
from . import payloads
from . import serializers as s
from .selectors import labeling as labeling_selectors
from .services import claim, labeling, queue, review, submit


def _body_size_guard(request) -> None:
    """413 before parsing a body larger than an annotation may be (plus room for the envelope)."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdecimal() and int(length) > settings.ANNOTATION_MAX_BYTES + 64 * 1024:
        raise DomainError(
            "payload_too_large",
            f"The request is {int(length):,} bytes; an annotation may be at most "
            f"{settings.ANNOTATION_MAX_BYTES:,} bytes.",
            status_code=413,
        )


def _assignment_data(assignment: Assignment, project, viewer, schema=None) -> dict:
    schema = schema or labeling.latest_schema(project)
    return payloads.assignment_payload(assignment, schema=schema, viewer=viewer, project=project)


def _next_item_data(project, annotator) -> dict:
    """POST queue/next/'s body (also under `next` in a submit-and-next response)."""
    outcome = claim.next_item_for_annotator(project=project, annotator=annotator)
    return payloads.next_item_payload(outcome, viewer=annotator, project=project)


_SUBMIT_FIELDS = frozenset(s.SubmitInputSerializer._declared_fields)


def _submit_input(data) -> dict:
    """The submit body as SubmitInputSerializer validates it. A body in the plain shape (the common
    case: right types, no coercion needed) is checked here without serializer machinery; anything
    else goes through the serializer, which accepts what it coerces and answers errors in its shape."""
    if isinstance(data, dict) and data.keys() <= _SUBMIT_FIELDS and data.get("result") is not None:
        key = data.get("idempotency_key")
        base = data.get("base_revision")
        prediction = data.get("prediction")
        active = data.get("active_ms", 0)
        then_next = data.get("next", False)
        if (
            (
                "idempotency_key" not in data
                or (type(key) is str and 0 < len(key) <= 100 and key == key.strip())
            )
            and (base is None or (type(base) is int and base >= 0))
            and (prediction is None or type(prediction) is int)
            and type(active) is int
            and active >= 0
            and type(then_next) is bool
        ):
            out = {"result": data["result"], "active_ms": active, "next": then_next}
            out.update(
                {
                    name: data[name]
                    for name in ("idempotency_key", "base_revision", "prediction")
                    if name in data
                }
            )
            return out
    payload = s.SubmitInputSerializer(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _flag(value: str | None) -> bool:
    """A query-string switch: 1/true/yes or 0/false/no (absent: off); anything else is a 400."""
    if value is None:
        return False
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no", ""}:
        return False
    raise DomainError("invalid_flag", f"?next= takes 1 or 0, not {value[:20]!r}.")


class QueueViewSet(_ProjectScoped):
    """/api/projects/<id>/queue/next/ and /queue/progress/."""

    serializer_class = s.NextItemSerializer

    @extend_schema(
        summary="Take your next item (held for you by a lease) or resume the one you hold",
        request=None,
        responses={200: s.NextItemSerializer},
    )
    @action(detail=False, methods=["post"])
    def next(self, request, project_pk=None):
        project = self._project(ProjectAction.ANNOTATE)
        return Response(_next_item_data(project, request.user))

    @extend_schema(
        summary="Progress: items by state, annotations, live leases, and yours",
        responses=s.ProgressSerializer,
    )
    @action(detail=False, methods=["get"])
    def progress(self, request, project_pk=None):
        project = self._project(ProjectAction.VIEW)
        data = labeling_selectors.project_progress(project=project)
        data["mine"] = labeling_selectors.annotator_progress(project=project, annotator=request.user)
        return Response(data)


@extend_schema_view(
    list=extend_schema(
        summary="Your assignments in this project (leased, submitted, skipped, correction, expired)",
        parameters=[OpenApiParameter("status", str, description="Only this status")],
    ),
    retrieve=extend_schema(summary="One of your assignments, with its item, draft, annotation and schema"),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = s.AssignmentSerializer
    queryset = Assignment.objects.none()
    pagination_class = DefaultPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        project = self._project(ProjectAction.ANNOTATE)
        wanted = self.request.query_params.get("status")
        if wanted and wanted not in Assignment.Status.values:
            raise DomainError("invalid_status", f"status is one of {', '.join(Assignment.Status.values)}.")
        return labeling_selectors.assignment_list_for_annotator(
            project=project, annotator=self.request.user, status=wanted or None
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            project = self._project(ProjectAction.ANNOTATE)
            context.update(schema=labeling.latest_schema(project), viewer=self.request.user, project=project)
        return context

    @extend_schema(summary="Keep holding the item (call every minute)", request=s.HeartbeatInputSerializer)
    @action(detail=True, methods=["post"])
    def heartbeat(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.ANNOTATE)
        payload = s.HeartbeatInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = labeling.lease_heartbeat(
            project=project, annotator=request.user, assignment_id=int(pk), **payload.validated_data
        )
        return Response({"status": assignment.status, "lease_expires_at": assignment.lease_expires_at})

    @extend_schema(
        summary="Autosave your draft on the server (also renews the lease)", request=s.DraftInputSerializer
    )
    @action(detail=True, methods=["put"])
    def draft(self, request, project_pk=None, pk=None):
        _body_size_guard(request)
        project = self._project(ProjectAction.ANNOTATE)
        payload = s.DraftInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = labeling.draft_save(
            project=project, annotator=request.user, assignment_id=int(pk), **payload.validated_data
        )
        return Response(
            {
                "status": assignment.status,
                "draft_saved_at": assignment.draft_saved_at,
                "lease_expires_at": assignment.lease_expires_at,
            }
        )

    @extend_schema(
        summary="Skip the item with a reason", request=s.SkipInputSerializer, responses=s.AssignmentSerializer
    )
    @action(detail=True, methods=["post"])
    def skip(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.ANNOTATE)
        payload = s.SkipInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignment = labeling.assignment_skip(
            project=project,
            annotator=request.user,
            assignment_id=int(pk),
            reason=payload.validated_data["reason"],
        )
        return Response(_assignment_data(assignment, project, request.user))

    @extend_schema(
        summary="Submit your annotation (idempotent by key); with next, lease your next item too",
        request=s.SubmitInputSerializer,
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(
                "next", bool, description="Also lease your next item (the body's `next` does the same)"
            ),
        ],
        responses={201: s.SubmittedAndNextSerializer, 200: s.SubmittedAndNextSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, project_pk=None, pk=None):
        _body_size_guard(request)
        project = self._project(ProjectAction.ANNOTATE)
        then_next = _flag(request.query_params.get("next"))
        data = _submit_input(request.data)
        key = data.get("idempotency_key") or request.headers.get("Idempotency-Key")
        outcome = submit.annotation_submit(
            project=project,
            annotator=request.user,
            assignment_id=int(pk),
            result=data["result"],
            idempotency_key=key,
            base_revision=data.get("base_revision"),
            prediction_id=data.get("prediction"),
            active_ms=data["active_ms"],
        )
        annotation = outcome.annotation  # its annotator and versions are in hand
        if outcome.replayed:
            annotation = Annotation.objects.select_related(
                "annotator", "schema_version", "guideline_version"
            ).get(pk=annotation.pk)
        code = status.HTTP_200_OK if outcome.replayed else status.HTTP_201_CREATED
        body = payloads.annotation_payload(annotation, viewer=request.user, project=project)
        if then_next or data["next"]:
            # After the submit's commit, in its own transaction, exactly as a separate POST queue/next/:
            # the same claim and the same invariants, one round trip fewer. A replayed submit gets the
            # lease it already holds (resumed).
            body["next"] = _next_item_data(project, request.user)
        return Response(body, status=code)


@extend_schema_view(
    list=extend_schema(
        summary="Annotations you may see (yours only, unless you review or the project is not blind)",
        parameters=[
            OpenApiParameter("item", int, description="Only this item's annotations"),
            OpenApiParameter("review", str, description="Only this review state"),
        ],
    ),
    retrieve=extend_schema(summary="One annotation"),
)
class AnnotationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ProjectScoped):
    serializer_class = s.AnnotationSerializer
    queryset = Annotation.objects.none()
    pagination_class = DefaultPagination

    def get_serializer_context(self):
        # viewer and project for the personal-data masking of answers (payloads._viewable_result):
        # with the project known, masking off costs no query per row.
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context.update(viewer=self.request.user, project=self._project(ProjectAction.VIEW))
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        project = self._project(ProjectAction.VIEW)
        visible = labeling_selectors.annotations_visible(project=project, user=self.request.user)
        item = self.request.query_params.get("item")
        if item:
            if not item.isdecimal():
                raise DomainError("invalid_item", "item is an item id.")
            visible = visible.filter(item_id=int(item))
        wanted = self.request.query_params.get("review")
        if wanted:
            visible = visible.filter(review=wanted)
        return visible.order_by("-id")

    @extend_schema(summary="Every revision and review decision of an annotation")
    @action(detail=True, methods=["get"])
    def history(self, request, project_pk=None, pk=None):
        annotation = self.get_object()
        history = labeling_selectors.annotation_history(annotation=annotation)
        return Response(
            {
                "annotation": s.AnnotationSerializer(annotation, context={"viewer": request.user}).data,
                "revisions": s.RevisionSerializer(
                    history["revisions"], many=True, context={"viewer": request.user}
                ).data,
                "decisions": s.DecisionSerializer(history["decisions"], many=True).data,
            }
        )

    @extend_schema(
        summary="Review an annotation: accept, reject (reason code + comment) or fix",
        request=s.ReviewDecisionInputSerializer,
        responses={201: s.DecisionSerializer},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, project_pk=None, pk=None):
        _body_size_guard(request)
        project = self._project(ProjectAction.REVIEW)
        payload = s.ReviewDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decision = review.review_decide(
            project=project, reviewer=request.user, annotation_id=int(pk), **payload.validated_data
        )
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


def _review_task_data(task: review.ReviewTask, viewer) -> dict:
    return {
        "item": s.TaskItemSerializer(task.item, context={"viewer": viewer}).data if task.item else None,
        "item_state": task.item.state if task.item else None,
        "annotations": s.AnnotationSerializer(task.annotations, many=True, context={"viewer": viewer}).data,
        "reason": task.reason,
    }


class ReviewViewSet(_ProjectScoped):
    """/api/projects/<id>/review/next/ and /review/<item id>/."""

    serializer_class = s.ReviewTaskSerializer

    @extend_schema(
        summary="Take the next item to review (held by a review lease)",
        request=None,
        responses=s.ReviewTaskSerializer,
    )
    @action(detail=False, methods=["post"])
    def next(self, request, project_pk=None):
        project = self._project(ProjectAction.REVIEW)
        return Response(
            _review_task_data(review.review_next(project=project, reviewer=request.user), request.user)
        )

    @extend_schema(summary="An item with its annotations, for review", responses=s.ReviewTaskSerializer)
    def retrieve(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.REVIEW)
        return Response(
            _review_task_data(review.review_task_get(project=project, item_id=int(pk)), request.user)
        )


class ItemWorkflowViewSet(_ProjectScoped):
    """Manager levers on items: /items-workflow/ (bulk) and /items-workflow/<id>/escalate/."""

    serializer_class = s.ItemsWorkflowInputSerializer

    @extend_schema(
        summary='Set priority, pool ("", @username or a group) or gold on many items',
        request=s.ItemsWorkflowInputSerializer,
        responses={200: {"type": "object", "properties": {"updated": {"type": "integer"}}}},
    )
    def create(self, request, project_pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = s.ItemsWorkflowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = queue.items_workflow_update(project=project, actor=request.user, **payload.validated_data)
        return Response({"updated": updated})

    @extend_schema(
        summary="Escalate an item to more annotators (it opens again)",
        request=s.EscalateInputSerializer,
        responses={200: {"type": "object"}},
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, project_pk=None, pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = s.EscalateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = queue.item_escalate(
            project=project, actor=request.user, item_id=int(pk), **payload.validated_data
        )
        return Response({"id": item.id, "state": item.state, "target": item.target, "done": item.done})


@extend_schema_view(
    list=extend_schema(
        summary="Model predictions (managers and reviewers)",
        parameters=[OpenApiParameter("item", int, description="Only this item's predictions")],
    )
)
class PredictionViewSet(mixins.ListModelMixin, _ProjectScoped):
    serializer_class = s.PredictionSerializer
    queryset = Prediction.objects.none()
    pagination_class = DefaultPagination

    def get_serializer_context(self):
        # viewer and project for the personal-data masking of answers (payloads._viewable_result):
        # with the project known, masking off costs no query per row.
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context.update(viewer=self.request.user, project=self._project(ProjectAction.VIEW_ITEMS))
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Prediction.objects.none()
        project = self._project(ProjectAction.VIEW_ITEMS)
        rows = Prediction.objects.filter(project=project).order_by("-id")
        item = self.request.query_params.get("item")
        if item:
            if not item.isdecimal():
                raise DomainError("invalid_item", "item is an item id.")
            rows = rows.filter(item_id=int(item))
        return rows

    @extend_schema(
        summary="Import model predictions (validated against the newest schema; all or nothing)",
        request=s.PredictionsInputSerializer,
        responses={201: {"type": "object", "properties": {"created": {"type": "integer"}}}},
    )
    def create(self, request, project_pk=None):
        project = self._project(ProjectAction.MANAGE_WORKFLOW)
        payload = s.PredictionsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        created = queue.predictions_import(
            project=project, actor=request.user, records=payload.validated_data["predictions"]
        )
        return Response({"created": created}, status=status.HTTP_201_CREATED)
