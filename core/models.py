"""Plumbing models: the timestamp base, the append-only audit log and the durable outbox."""

from django.conf import settings
from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised by any attempt to change or remove an audit row."""


class AuditEventQuerySet(models.QuerySet):
    # The ORM refuses bulk changes; PostgreSQL and SQLite triggers refuse them too (migration 0002).
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One write made by a service: who did what to which objects, and when. Never edited."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: users and organisations with audit history are deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)  # username at the time, or "system"
    # Null for personal events (API tokens) that belong to no organisation.
    organisation = models.ForeignKey(
        "projects.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=100, db_index=True)  # "<entity>.<past tense>", e.g. project.created
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True)  # {"field": [old, new]} or a description

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organisation", "-id"], name="audit_org_recent"),
            # "What happened to this item / release / member?": an object's history, newest first.
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_recent"),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    @property
    def actor_display(self) -> str:
        """Who, as pages show it: "deleted user" once the actor's account was deleted (the row keeps
        the actor id and the label of the time: the log is append-only)."""
        if self.actor_id is not None and getattr(self.actor, "deleted_at", None) is not None:
            return "deleted user"
        return self.actor_label


class OutboxMessage(models.Model):
    """A Celery job recorded in the same transaction as the write that needs it.

    Dispatched right after commit; if the broker is down the row stays pending and the relay
    (core.services.outbox_relay, run by beat every few seconds) sends it later. Consumers are
    idempotent, so at-least-once delivery is safe.
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending",
                condition=models.Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        state = "sent" if self.dispatched_at else "pending"
        return f"{self.task_name} #{self.pk} ({state})"


class JobHeartbeat(models.Model):
    """A long job is alive: the worker running it writes `beat_at` every few seconds (core.jobs).

    One row per running job, deleted when it ends. A row whose beat is older than
    CORE_JOB_STALE_SECONDS belongs to a worker that died (SIGKILL, OOM, lost host): the reaper
    (core.jobs.jobs_reap, beat every 30 s) marks the job failed and deletes the row. Worker
    liveness for /healthz is a row too (kind "worker", object_id 0, keyed by `worker`).
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=30)  # "import", "split", "release", "quality", "worker"
    object_id = models.BigIntegerField()
    worker = models.CharField(max_length=255, blank=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "worker"], name="job_heartbeat_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id} on {self.worker} (beat {self.beat_at:%H:%M:%S})"
