from django.urls import path

from .imports import views as views_imports
from .items import consent_views, manager_views, views
from .neardup import views as views_neardup
from .pii import views as views_pii
from .provenance import views as views_provenance
from .sources import views as views_sources
from .workflow import views as views_labeling

urlpatterns = [
    path(
        "organisations/<int:organisation_id>/record-of-processing.<str:fmt>",
        views_provenance.organisation_record_of_processing,
        name="organisation-record-of-processing",
    ),
    path("projects/<int:project_id>/label/", views_labeling.label_page, name="project-label"),
    path("projects/<int:project_id>/review/", views_labeling.review_page, name="project-review"),
    path("projects/<int:project_id>/data/", views.project_data, name="project-data"),
    path(
        "projects/<int:project_id>/data/imports/<int:job_id>/",
        views_imports.import_job_detail,
        name="project-import-job",
    ),
    path(
        "projects/<int:project_id>/data/metadata-fields/<int:field_id>/",
        views.metadata_field_change,
        name="project-metadata-field",
    ),
    path(
        "projects/<int:project_id>/data/sources/", views_sources.bucket_sources, name="project-bucket-sources"
    ),
    path(
        "projects/<int:project_id>/data/sources/<int:source_id>/sync/",
        views_sources.bucket_source_sync,
        name="project-bucket-source-sync",
    ),
    path(
        "projects/<int:project_id>/data/sources/<int:source_id>/delete/",
        views_sources.bucket_source_delete,
        name="project-bucket-source-delete",
    ),
    path(
        "projects/<int:project_id>/data/duplicates/",
        views_neardup.near_duplicates_page,
        name="project-near-duplicates",
    ),
    path(
        "projects/<int:project_id>/data/duplicates/detect/",
        views_neardup.near_duplicates_detect,
        name="project-near-duplicates-detect",
    ),
    path(
        "projects/<int:project_id>/data/personal-data/scan/", views_pii.pii_detect, name="project-pii-detect"
    ),
    path(
        "projects/<int:project_id>/data/personal-data/<int:finding_id>/review/",
        views_pii.pii_finding_review,
        name="project-pii-finding-review",
    ),
    path(
        "projects/<int:project_id>/data/duplicates/<int:group_id>/resolve/",
        views_neardup.near_duplicate_resolve,
        name="project-near-duplicate-resolve",
    ),
]

# The data manager (annotation/items/manager_views.py): bulk actions (item pages: quality/urls.py).
urlpatterns += [
    path("projects/<int:project_id>/data/bulk/", manager_views.data_bulk_action, name="project-data-bulk"),
    path(
        "projects/<int:project_id>/items/<int:item_id>/consent/",
        consent_views.item_consent_update,
        name="project-item-consent",
    ),
]
