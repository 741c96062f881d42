from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation.imports.blocking import ContentBlocker, register_content_blocker

        from .erasure import selectors

        # An import never brings back erased content: the row is reported, not created.
        register_content_blocker(
            ContentBlocker(
                code="erased_content",
                reason="this content was erased from the project (a tombstone blocks it); not imported",
                active=selectors.project_has_erasures,
                blocked=lambda project_id, hashes: selectors.erased_content_keys(
                    project_id=project_id, content_hashes=hashes
                ),
            )
        )
