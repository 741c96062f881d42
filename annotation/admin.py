"""Read-only admin views for operators. Every change goes through the services (and the audit log)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import BucketSource, ImportJob, Item, MetadataField, NearDuplicateGroup, SplitOperation


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "original_name", "format", "status", "received", "created", "created_at"]
    list_filter = ["status", "format"]


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "external_id", "source", "split", "media_type", "excluded", "created_at"]
    list_filter = ["source", "media_type", "excluded"]
    search_fields = ["external_id"]
    show_full_result_count = False  # no COUNT(*) over a million items on every page


@admin.register(BucketSource)
class BucketSourceAdmin(ReadOnlyAdmin):
    list_display = ["name", "project", "bucket", "prefix", "endpoint_url", "last_synced_at"]
    exclude = ["secret_access_key"]  # never shown, not even to operators


admin.site.register(MetadataField, ReadOnlyAdmin)
admin.site.register(SplitOperation, ReadOnlyAdmin)
admin.site.register(NearDuplicateGroup, ReadOnlyAdmin)
