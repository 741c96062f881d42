import json

from django import forms
from django.conf import settings

from core import parsers
from core.exceptions import DomainError

from .models import OrganisationMembership, ProjectMembership


class ProjectCreateForm(forms.Form):
    organisation = forms.TypedChoiceField(coerce=int, label="Organisation")
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    overlap = forms.IntegerField(
        min_value=1, initial=1, help_text="How many annotators label each item.", label="Overlap"
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(org.id, org.name) for org in organisations]
        self.fields["overlap"].max_value = settings.PROJECTS_MAX_OVERLAP


class ProjectUpdateForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    overlap = forms.IntegerField(min_value=1, help_text="How many annotators label each item.")
    expected_updated_at = forms.DateTimeField(widget=forms.HiddenInput)


class ProjectMemberAddForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="A member of the organisation.")
    role = forms.ChoiceField(choices=ProjectMembership.Role.choices, initial=ProjectMembership.Role.ANNOTATOR)


class ProjectMemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ProjectMembership.Role.choices)


class OrganisationMemberAddForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]+\Z", max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Set a password to create a new account."
    )
    role = forms.ChoiceField(
        choices=OrganisationMembership.Role.choices, initial=OrganisationMembership.Role.MEMBER
    )


class SchemaVersionForm(forms.Form):
    definition = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 22, "spellcheck": "false", "autocapitalize": "off", "class": "code-input"}
        ),
        label="Schema (JSON)",
        help_text="The format and an example of every control are in docs/SCHEMA.md.",
    )
    note = forms.CharField(
        max_length=500,
        required=False,
        label="What changed",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Added a 'mixed' sentiment"}),
    )

    def clean_definition(self):
        try:
            return parsers.loads(self.cleaned_data["definition"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from error
        except DomainError as error:  # too deep, a NUL or surrogate, a number that is not finite
            raise forms.ValidationError(error.message) from error


class GuidelineVersionForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16, "class": "code-input"}),
        label="Guidelines (Markdown)",
        strip=False,
        help_text="Markdown: # headings, **bold**, lists, tables and links. HTML is shown as text.",
    )
    note = forms.CharField(
        max_length=500,
        required=False,
        label="What changed",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Clarified sarcasm"}),
    )
