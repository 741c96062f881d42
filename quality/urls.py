from django.urls import path

from . import views

urlpatterns = [
    path("projects/<int:project_id>/quality/", views.quality_dashboard, name="project-quality"),
    path("projects/<int:project_id>/quality/gold/", views.gold_page, name="project-gold"),
    path(
        "projects/<int:project_id>/quality/settings/",
        views.quality_settings_page,
        name="project-quality-settings",
    ),
]
