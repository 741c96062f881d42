from django.urls import path

from . import views

urlpatterns = [path("projects/new/", views.project_new, name="project-new")]
