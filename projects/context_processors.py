from .models import OrganisationMembership


def navigation(request):
    """The organisations in the header menu, with whether the user administers each."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = OrganisationMembership.objects.filter(user=user).select_related("organisation")
    return {
        "nav_organisations": [
            (m.organisation, m.role == OrganisationMembership.Role.ADMIN) for m in memberships
        ]
    }
