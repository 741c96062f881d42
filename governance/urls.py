from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:project_id>/retention/", views.retention_page, name="project-retention"),
    path(
        "projects/<int:project_id>/items/<int:item_id>/erase/",
        views.erase_item_page,
        name="project-item-erase",
    ),
    path(
        "projects/<int:project_id>/data/erase-subject/",
        views.erase_subject_page,
        name="project-erase-subject",
    ),
    path(
        "projects/<int:project_id>/data/imports/<int:job_id>/erase/",
        views.erase_import_job_page,
        name="project-import-erase",
    ),
    path(
        "projects/<int:project_id>/data/sources/<int:source_id>/erase/",
        views.erase_bucket_source_page,
        name="project-bucket-source-erase",
    ),
]
