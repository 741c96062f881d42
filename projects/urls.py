from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="project-list", permanent=False)),
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/labelstudio/", views.project_new_labelstudio, name="project-new-labelstudio"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/archive/", views.project_archive, name="project-archive"),
    path("projects/<int:project_id>/members/", views.project_members, name="project-members"),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/",
        views.project_member_change,
        name="project-member-change",
    ),
    path("projects/<int:project_id>/schema/", views.project_schema, name="project-schema"),
    path("projects/<int:project_id>/guidelines/", views.project_guidelines, name="project-guidelines"),
    path(
        "organisations/<int:organisation_id>/members/",
        views.organisation_members,
        name="organisation-members",
    ),
    path(
        "organisations/<int:organisation_id>/members/<int:membership_id>/revoke-credentials/",
        views.organisation_member_revoke_credentials,
        name="organisation-member-revoke-credentials",
    ),
    path(
        "organisations/<int:organisation_id>/members/<int:membership_id>/delete-account/",
        views.organisation_member_delete_account,
        name="organisation-member-delete-account",
    ),
    path("account/delete/", views.account_delete_own, name="account-delete"),
    path("organisations/<int:organisation_id>/audit/", views.organisation_audit, name="organisation-audit"),
    path("", include("projects.settings_pages.urls")),
    path("", include("projects.project_templates.urls")),
]
