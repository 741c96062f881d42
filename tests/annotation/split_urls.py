"""The site's URLs plus the splits route, until config/api_urls.py registers SplitOperationViewSet.

Once it does, the site's own route matches first and this module adds nothing.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from annotation.api.splits import SplitOperationViewSet
from config import urls as site_urls

router = SimpleRouter()
router.register("splits", SplitOperationViewSet, basename="split-operation")

handler404 = site_urls.handler404
urlpatterns = [*site_urls.urlpatterns, path("api/projects/<int:project_pk>/", include(router.urls))]
