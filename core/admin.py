from django.contrib import admin

from .models import AuditEvent, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """For domain models: operators look, services write (so every change is checked and audited)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only everywhere, the admin included."""

    list_display = ["created_at", "actor_label", "organisation", "action", "target_type", "target_id"]
    list_filter = ["action", "organisation"]
    search_fields = ["actor_label", "target_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "task_name", "created_at", "attempts", "dispatched_at", "next_attempt_at"]
    list_filter = ["task_name"]
    readonly_fields = [
        "task_name",
        "kwargs",
        "attempts",
        "dispatched_at",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
