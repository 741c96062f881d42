from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:project_id>/releases/", views.release_list_page, name="project-releases"),
    path(
        "projects/<int:project_id>/releases/<int:number>/", views.release_detail_page, name="project-release"
    ),
    path(
        "projects/<int:project_id>/releases/<int:number>/retry/",
        views.release_retry_page,
        name="project-release-retry",
    ),
    path(
        "projects/<int:project_id>/releases/<int:number>/reproduce/",
        views.release_reproduce_page,
        name="project-release-reproduce",
    ),
    path(
        "projects/<int:project_id>/releases/<int:number>/diff/",
        views.release_diff_page,
        name="project-release-diff",
    ),
]
