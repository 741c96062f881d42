from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import AuditEvent
from core.serializers import StrictInputSerializer

from ..models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
    ProjectStats,
)
from ..selectors import project_settings_warnings

# --- Organisations ----------------------------------------------------------------------------------


class OrganisationOutputSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this organisation: admin or member.")

    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "role", "created_at"]
        read_only_fields = fields

    def get_role(self, organisation) -> str | None:
        return self.context.get("roles", {}).get(organisation.id)


class _PersonFields(serializers.Serializer):
    """Who a member is: username and name for everyone who may see the member; the email address only
    when the serializer context says `show_emails` (admins and managers: projects.access)."""

    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField(help_text="First and last name, when the account has them.")
    email = serializers.SerializerMethodField(
        help_text="Only for organisation admins and project managers; null for everyone else."
    )

    def get_name(self, membership) -> str:
        return membership.user.get_full_name()

    def get_email(self, membership) -> str | None:
        return membership.user.email if self.context.get("show_emails") else None


class OrganisationMemberOutputSerializer(_PersonFields, serializers.ModelSerializer):
    class Meta:
        model = OrganisationMembership
        fields = ["id", "username", "name", "email", "role", "created_at"]
        read_only_fields = fields


class OrganisationMemberAddInputSerializer(StrictInputSerializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    role = serializers.ChoiceField(choices=OrganisationMembership.Role.choices, default="member")
    password = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        style={"input_type": "password"},
        help_text="Give a password to create a new account; omit it to add an existing account.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)


class AuditEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_display", help_text='The username at the time, "system", or "deleted user"'
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "action", "project_id", "target_type", "target_id", "changes"]
        read_only_fields = fields


# --- Projects ---------------------------------------------------------------------------------------


class ProjectStatsOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectStats
        fields = [
            "members",
            "managers",
            "reviewers",
            "annotators",
            "schema_versions",
            "guideline_versions",
            "computed_at",
        ]
        read_only_fields = fields


class ProjectSettingsWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    setting = serializers.CharField()
    message = serializers.CharField()


class ProjectOutputSerializer(serializers.ModelSerializer):
    organisation = serializers.PrimaryKeyRelatedField(read_only=True)
    is_archived = serializers.BooleanField(read_only=True)
    stats = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Settings that keep work from finishing: [{code, setting, message}] "
        "(overlap_exceeds_annotators, no_spare_annotator, gold_rate_without_gold)."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "organisation",
            "name",
            "description",
            "overlap",
            "settings",
            "warnings",
            "is_archived",
            "archived_at",
            "stats",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProjectSettingsWarningSerializer(many=True))
    def get_warnings(self, project):
        return project_settings_warnings(project=project)

    @extend_schema_field(ProjectStatsOutputSerializer(allow_null=True))
    def get_stats(self, project):
        try:
            return ProjectStatsOutputSerializer(project.stats).data
        except ProjectStats.DoesNotExist:  # not computed yet: the worker fills it in after commit
            return None


class ProjectCreateInputSerializer(StrictInputSerializer):
    organisation = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    overlap = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    settings = serializers.DictField(required=False)


class LabelStudioPreviewInputSerializer(StrictInputSerializer):
    organisation = serializers.IntegerField(
        min_value=1, help_text="The organisation the project would be created in (you must be its admin)."
    )
    labelstudio_config = serializers.CharField(
        trim_whitespace=False,
        help_text="A Label Studio labeling config: the <View> XML (at most 256 KB; no DTD or entities).",
    )


class ProjectFromLabelStudioInputSerializer(ProjectCreateInputSerializer):
    labelstudio_config = serializers.CharField(
        trim_whitespace=False,
        help_text="A Label Studio labeling config: the <View> XML (at most 256 KB; no DTD or entities). "
        "It becomes schema version 1; see docs/SCHEMA.md, 'Label Studio configs'.",
    )


class UntranslatedOutputSerializer(serializers.Serializer):
    tag = serializers.CharField(help_text="The Label Studio tag, e.g. BrushLabels.")
    name = serializers.CharField(help_text="Its name attribute (or label, or header text).")
    reason = serializers.CharField(help_text="Why Tessera's schema cannot express it.")


class LabelStudioPreviewOutputSerializer(serializers.Serializer):
    schema = serializers.JSONField(help_text="The label schema the config becomes (valid; not saved).")
    untranslated = UntranslatedOutputSerializer(many=True)


class ProjectFromLabelStudioOutputSerializer(serializers.Serializer):
    project = ProjectOutputSerializer()
    schema_version = serializers.IntegerField(help_text="The schema version created (1).")
    schema = serializers.JSONField()
    untranslated = UntranslatedOutputSerializer(many=True)


class ProjectUpdateInputSerializer(StrictInputSerializer):
    expected_updated_at = serializers.DateTimeField(
        required=False,
        help_text="The project's updated_at as you last read it; if it changed since, the update is refused "
        "with 409 stale_update instead of overwriting someone else's change.",
    )
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    overlap = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    settings = serializers.DictField(
        required=False,
        help_text="A JSON merge patch (RFC 7396) on the stored settings: objects merge, null removes a "
        "key (back to its default). Unknown keys: 400 unknown_setting; wrong types: 400 invalid_settings.",
    )


class ProjectMemberOutputSerializer(_PersonFields, serializers.ModelSerializer):
    class Meta:
        model = ProjectMembership
        fields = [
            "id",
            "username",
            "name",
            "email",
            "role",
            "quota",
            "groups",
            "gold_rate",
            "paused_at",
            "paused_reason",
            "created_at",
        ]
        read_only_fields = fields


class ProjectMemberAddInputSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=ProjectMembership.Role.choices)


class ProjectMemberUpdateInputSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(choices=ProjectMembership.Role.choices)


class SchemaVersionOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = LabelSchemaVersion
        fields = ["id", "version", "definition", "note", "created_by", "created_at"]
        read_only_fields = fields


class SchemaVersionCreateInputSerializer(StrictInputSerializer):
    definition = serializers.JSONField(
        help_text="The label schema: validated against docs/label-schema.schema.json (see docs/SCHEMA.md)."
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GuidelineVersionOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = GuidelineVersion
        fields = ["id", "version", "body", "note", "created_by", "created_at"]
        read_only_fields = fields


class GuidelineVersionCreateInputSerializer(StrictInputSerializer):
    body = serializers.CharField(max_length=200_000, trim_whitespace=False, help_text="Markdown.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LabelMigrationInputSerializer(StrictInputSerializer):
    operations = serializers.JSONField(
        help_text="A list of rename / merge / split / delete operations (docs/WORKFLOW.md#label-migrations)."
    )
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class LabelMigrationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_version = serializers.IntegerField(source="from_version.version")
    to_version = serializers.IntegerField(source="to_version.version")
    operations = serializers.JSONField()
    re_review = serializers.IntegerField(help_text="Items sent back to review (filled in after commit).")
    created_at = serializers.DateTimeField()


class MemberWorkflowInputSerializer(StrictInputSerializer):
    quota = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    groups = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    gold_rate = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)


class PauseInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, help_text="Shown to the annotator.")


class AcknowledgementOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="guideline_version.version")
    acknowledged_at = serializers.DateTimeField(source="created_at")


class AccountDeletedOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(help_text="The account's id: it stays, so release pseudonyms stay")
    already_deleted = serializers.BooleanField(help_text="Deleted before (nothing changed)")
    by = serializers.CharField(required=False, help_text='"self" or "organisation_admin"')
    memberships_ended = serializers.IntegerField(required=False)
    tokens_revoked = serializers.IntegerField(required=False)


class AccountDeleteInputSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="Your current password, to confirm")
