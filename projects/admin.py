from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
)

for model in (
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
    LabelSchemaVersion,
    GuidelineVersion,
):
    admin.site.register(model, ReadOnlyAdmin)
