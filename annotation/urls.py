from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:project_id>/data/", views.project_data, name="project-data"),
    path(
        "projects/<int:project_id>/data/imports/<int:job_id>/",
        views.import_job_detail,
        name="project-import-job",
    ),
    path(
        "projects/<int:project_id>/data/metadata-fields/<int:field_id>/",
        views.metadata_field_change,
        name="project-metadata-field",
    ),
]
