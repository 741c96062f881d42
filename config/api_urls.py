"""The one DRF router. Apps register their viewsets here."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from accounts.api.views import ApiTokenViewSet, me, sign_out_everywhere
from annotation.imports.api import ImportJobViewSet
from annotation.items.api.media import ItemMediaView
from annotation.items.api.views import ItemViewSet, MetadataFieldViewSet
from annotation.items.consent_api import ItemGovernanceCsvView, ItemGovernanceView
from annotation.items.manager_api import ItemBulkActionViewSet, ItemExportView
from annotation.neardup.api import NearDuplicateGroupViewSet
from annotation.pii.api import PiiFindingViewSet
from annotation.provenance.api import ProvenanceSourceViewSet
from annotation.sources.api import BucketSourceViewSet
from annotation.splits.api import SplitOperationViewSet
from annotation.workflow.api import (
    AnnotationViewSet,
    AssignmentViewSet,
    ItemWorkflowViewSet,
    PredictionViewSet,
    QueueViewSet,
    ReviewViewSet,
)
from exports.api import ReleaseViewSet
from governance.api import ErasureViewSet
from governance.retention_api import RetentionRunViewSet
from projects.api import views as project_views
from projects.api.views import (
    GuidelineVersionViewSet,
    OrganisationMemberViewSet,
    OrganisationViewSet,
    ProjectMemberViewSet,
    ProjectViewSet,
    SchemaVersionViewSet,
)
from projects.project_templates.api import ProjectFromTemplateView, ProjectTemplateListView
from projects.settings_pages.api import OrganisationSettingsView
from quality.api import GoldViewSet, QualityViewSet
from quality.item_page.api import ItemDetailView

router = DefaultRouter()
router.include_root_view = False
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("projects", ProjectViewSet, basename="project")

organisation_router = SimpleRouter()
organisation_router.register("members", OrganisationMemberViewSet, basename="organisation-member")

project_router = SimpleRouter()
project_router.register("members", ProjectMemberViewSet, basename="project-member")
project_router.register("schema-versions", SchemaVersionViewSet, basename="schema-version")
project_router.register("guideline-versions", GuidelineVersionViewSet, basename="guideline-version")
project_router.register("imports", ImportJobViewSet, basename="import-job")
project_router.register("items", ItemViewSet, basename="item")
project_router.register("metadata-fields", MetadataFieldViewSet, basename="metadata-field")
project_router.register("splits", SplitOperationViewSet, basename="split-operation")
project_router.register("bucket-sources", BucketSourceViewSet, basename="bucket-source")
project_router.register("provenance-sources", ProvenanceSourceViewSet, basename="provenance-source")
project_router.register("near-duplicates", NearDuplicateGroupViewSet, basename="near-duplicate-group")
project_router.register("pii-findings", PiiFindingViewSet, basename="pii-finding")
project_router.register("queue", QueueViewSet, basename="queue")
project_router.register("assignments", AssignmentViewSet, basename="assignment")
project_router.register("annotations", AnnotationViewSet, basename="annotation")
project_router.register("review", ReviewViewSet, basename="review")
project_router.register("items-workflow", ItemWorkflowViewSet, basename="items-workflow")
project_router.register("predictions", PredictionViewSet, basename="prediction")
project_router.register("items-bulk", ItemBulkActionViewSet, basename="item-bulk")
project_router.register("quality", QualityViewSet, basename="quality")
project_router.register("gold", GoldViewSet, basename="gold")
project_router.register("releases", ReleaseViewSet, basename="release")
project_router.register("erasures", ErasureViewSet, basename="erasure")
project_router.register("retention-runs", RetentionRunViewSet, basename="retention-run")

urlpatterns = [
    path("me/", me, name="api-me"),
    path("me/delete-account/", project_views.account_delete_own, name="api-account-delete"),
    path("me/sign-out-everywhere/", sign_out_everywhere, name="api-sign-out-everywhere"),
    path(
        "organisations/<int:organisation_pk>/settings/",
        OrganisationSettingsView.as_view(),
        name="organisation-settings-api",
    ),
    path("project-templates/", ProjectTemplateListView.as_view(), name="project-template-list"),
    path("projects/from-template/", ProjectFromTemplateView.as_view(), name="project-from-template"),
    path("", include(router.urls)),
    path("organisations/<int:organisation_pk>/", include(organisation_router.urls)),
    path(
        "projects/<int:project_pk>/quality/tables/<str:table>.csv",
        QualityViewSet.as_view({"get": "table"}),
        name="quality-table",
    ),
    path(
        "projects/<int:project_pk>/releases/<int:number>/files/<path:path>",
        ReleaseViewSet.as_view({"get": "download"}),
        name="release-file",
    ),
    path("projects/<int:project_pk>/", include(project_router.urls)),
    path("projects/<int:project_pk>/items/<int:item_pk>/media/", ItemMediaView.as_view(), name="item-media"),
    path(
        "projects/<int:project_pk>/items/<int:item_pk>/detail/", ItemDetailView.as_view(), name="item-detail"
    ),
    path("projects/<int:project_pk>/items-export/", ItemExportView.as_view(), name="item-export"),
    path(
        "projects/<int:project_pk>/items/<int:item_pk>/governance/",
        ItemGovernanceView.as_view(),
        name="item-governance",
    ),
    path(
        "projects/<int:project_pk>/items-governance-csv/",
        ItemGovernanceCsvView.as_view(),
        name="item-governance-csv",
    ),
]
