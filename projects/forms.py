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


class LabelStudioProjectForm(ProjectCreateForm):
    """A new project whose schema is translated from a Label Studio labeling config (pasted or uploaded)."""

    labelstudio_config = forms.CharField(
        required=False,
        strip=False,
        label="Label Studio config (XML)",
        widget=forms.Textarea(
            attrs={"rows": 14, "spellcheck": "false", "autocapitalize": "off", "class": "code-input"}
        ),
        help_text="Paste the labeling config from Label Studio (Settings → Labeling Interface → Code), "
        "starting with &lt;View&gt;.",
    )
    labelstudio_file = forms.FileField(
        required=False,
        label="…or upload it",
        help_text="An .xml file; it replaces the text above.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,text/xml,application/xml"}),
    )

    field_order = ["organisation", "name", "description", "overlap", "labelstudio_config", "labelstudio_file"]

    def clean(self):
        data = super().clean()
        upload = data.get("labelstudio_file")
        if upload:
            from .schema.labelstudio import MAX_CONFIG_BYTES

            raw = upload.read(MAX_CONFIG_BYTES + 1)
            if len(raw) > MAX_CONFIG_BYTES:
                self.add_error("labelstudio_file", f"At most {MAX_CONFIG_BYTES // 1024} KB.")
                return data
            try:
                data["labelstudio_config"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("labelstudio_file", "The file is not UTF-8 text.")
                return data
            # Shown again in the text box, so "Create" sends the config that was previewed.
            self.data = self.data.copy()
            self.data["labelstudio_config"] = data["labelstudio_config"]
        if not (data.get("labelstudio_config") or "").strip():
            self.add_error("labelstudio_config", "Paste a Label Studio config or upload its file.")
        return data


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
