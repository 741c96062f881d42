from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:project_id>/settings/", views.project_settings, name="project-settings"),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/overrides/",
        views.project_member_overrides,
        name="project-member-overrides",
    ),
    path(
        "organisations/<int:organisation_id>/settings/",
        views.organisation_settings,
        name="organisation-settings",
    ),
]
