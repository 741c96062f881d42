from django.urls import path

from . import views
from .item_page import views as item_page

urlpatterns = [
    path("projects/<int:project_id>/quality/", views.quality_dashboard, name="project-quality"),
    path("projects/<int:project_id>/quality/gold/", views.gold_page, name="project-gold"),
    path(
        "projects/<int:project_id>/quality/settings/",
        views.quality_settings_page,
        name="project-quality-settings",
    ),
]

# The item page and gold from the UI (quality/item_page/): annotation's item with consensus and gold.
urlpatterns += [
    path("projects/<int:project_id>/items/<int:item_id>/", item_page.item_page, name="project-item"),
    path(
        "projects/<int:project_id>/items/<int:item_id>/gold/",
        item_page.item_gold_author,
        name="project-item-gold",
    ),
    path(
        "projects/<int:project_id>/items/<int:item_id>/gold/promote/",
        item_page.item_gold_promote,
        name="project-item-gold-promote",
    ),
    path(
        "projects/<int:project_id>/items/<int:item_id>/gold/remove/",
        item_page.item_gold_remove,
        name="project-item-gold-remove",
    ),
]
