from django.contrib import admin

from .models import (
    GuidelineVersion,
    LabelSchemaVersion,
    Organisation,
    OrganisationMembership,
    Project,
    ProjectMembership,
)

admin.site.register(Organisation)
admin.site.register(OrganisationMembership)
admin.site.register(Project)
admin.site.register(ProjectMembership)
admin.site.register(LabelSchemaVersion)
admin.site.register(GuidelineVersion)
