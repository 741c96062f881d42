"""Quality results, stored beside the raw annotations and never replacing them.

- QualityState: one row per project: the recompute scheduler (in-flight flag, generation counter) and the
  snapshot the incremental runs start from.
- QualityRun: one computation, stamped with what it saw (the last annotation revision id and the
  counts) and the methods and versions it used; its report is what the dashboard and the API show.
- ConsensusResult: the aggregated answer of one control on one item, with method, version,
  confidence and agreement. Re-runnable: a run rewrites only the rows whose answer changed.
- GoldStandard: the reference answer of a gold item (set by a manager or promoted from consensus).
"""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q


class QualityState(models.Model):
    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The scheduler (quality/scheduling.py): every change bumps `generation`; the first change while
    # nothing is in flight sets `pending` and enqueues the one job; the job owns the project through
    # `running_since` and loops until the generation it computed is the current one, then clears
    # `pending` in one conditional UPDATE (so a change either is seen by that UPDATE or schedules anew).
    pending = models.BooleanField(default=False)  # a recompute is in flight (queued or running)
    full_requested = models.BooleanField(default=False)  # the next run recomputes everything
    requested_at = models.DateTimeField(null=True, blank=True)  # last enqueue or pass start (staleness)
    generation = models.BigIntegerField(default=0)  # changes scheduled so far
    computed_generation = models.BigIntegerField(default=0)  # the generation the last pass covered
    running_since = models.DateTimeField(null=True, blank=True)  # a job owns the loop (lease, per pass)
    # Incremental runs start from this: coded categorical answers and model parameters (npz bytes),
    # valid for annotations read at snapshot_at and for the schema version below.
    # The snapshot is a base (rewritten by full runs, or when the changes since grow large) plus a
    # small delta of the rows changed since, which is all an incremental run writes.
    snapshot = models.BinaryField(null=True, blank=True)
    snapshot_delta = models.BinaryField(null=True, blank=True)
    snapshot_base = models.BigIntegerField(default=0)  # the id of the run that wrote the base (cache key)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    snapshot_schema_version = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"quality state of project {self.project_id}"


class QualityRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(default=0)
    schema_version = models.IntegerField(default=0)
    # What it saw: annotations as of `seen_at` (the newest revision id then, for reference).
    seen_at = models.DateTimeField(null=True, blank=True)
    last_revision_id = models.BigIntegerField(default=0)
    annotations = models.IntegerField(default=0)
    items = models.IntegerField(default=0)
    methods = models.JSONField(default=dict)  # control -> {"method", "version"}
    report = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="quality_run_project")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["full", "incremental"]), name="quality_run_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "done", "failed"]), name="quality_run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"quality run {self.pk} ({self.kind}) of project {self.project_id}"


class ConsensusResult(models.Model):
    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="+", db_index=False)
    control = models.CharField(max_length=64)
    method = models.CharField(max_length=30)
    method_version = models.CharField(max_length=20)
    answer = models.JSONField(null=True)  # in the control's answer shape; null when nobody answered
    confidence = models.FloatField(null=True)
    agreement = models.FloatField(null=True)  # per-item agreement; null with fewer than two answers
    annotations = models.IntegerField(default=0)
    run = models.ForeignKey(
        QualityRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_id", "control"]
        constraints = [models.UniqueConstraint(fields=["item", "control"], name="consensus_once_per_control")]
        indexes = [models.Index(fields=["project", "control", "item"], name="consensus_project")]

    def __str__(self) -> str:
        return f"consensus of {self.control} on item {self.item_id}"


class GoldStandard(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Set by a manager"
        CONSENSUS = "consensus", "Promoted from consensus"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    item = models.OneToOneField("annotation.Item", on_delete=models.CASCADE, related_name="gold_standard")
    result = models.JSONField()  # {control: reference answer}, valid under schema_version
    source = models.CharField(max_length=20, choices=Source.choices)
    schema_version = models.ForeignKey(
        "projects.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_id"]
        indexes = [models.Index(fields=["project", "item"], name="gold_project")]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["manual", "consensus"]), name="gold_source_valid")
        ]

    def __str__(self) -> str:
        return f"gold answer of item {self.item_id}"
