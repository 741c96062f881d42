"""Forms of the data pages: item filters, a metadata field's type, a split assignment."""

from django import forms

from ..models import Item, MetadataField

NO_SPLIT = "(none)"  # filter value for "items without a split"; never a valid split name


class ItemFilterForm(forms.Form):
    """The item table's filters (GET). `params()` turns them into items.selectors.items.item_list's."""

    q = forms.CharField(required=False, max_length=200, label="Search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Words in the text"}
    ))  # fmt: skip
    split = forms.ChoiceField(required=False)
    source = forms.ChoiceField(required=False, choices=[("", "Any"), *Item.Source.choices])
    consent = forms.ChoiceField(required=False, choices=[("", "Any"), *Item.Consent.choices])
    state = forms.ChoiceField(required=False, choices=[("", "Any"), *Item.State.choices])
    synthetic = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("true", "Synthetic"), ("false", "Not synthetic")]
    )
    meta_key = forms.ChoiceField(required=False, label="Metadata field")
    meta_value = forms.CharField(required=False, max_length=200, label="equals")
    import_job = forms.IntegerField(required=False, min_value=1, label="Import", widget=forms.HiddenInput)

    def __init__(self, *args, splits=(), field_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["split"].choices = [
            ("", "Any"),
            *((name, name) for name in splits if name),
            (NO_SPLIT, "No split"),
        ]
        self.fields["meta_key"].choices = [("", "—"), *((name, name) for name in field_names)]

    def clean(self):
        data = super().clean()
        if data.get("meta_value") and not data.get("meta_key"):
            self.add_error("meta_key", "Choose the metadata field to compare.")
        return data

    def params(self) -> dict[str, str]:
        """The filters that are set, in item_list's vocabulary. Call after is_valid()."""
        data = self.cleaned_data
        params = {
            name: data[name] for name in ("q", "source", "consent", "state", "synthetic") if data.get(name)
        }
        if data.get("split"):
            params["split"] = "" if data["split"] == NO_SPLIT else data["split"]
        if data.get("meta_key"):
            params[f"meta.{data['meta_key']}"] = data.get("meta_value", "")
        if data.get("import_job"):
            params["import_job"] = str(data["import_job"])
        return params


class MetadataFieldTypeForm(forms.Form):
    type = forms.ChoiceField(choices=MetadataField.Type.choices)


class SplitAssignForm(forms.Form):
    ratios = forms.CharField(
        max_length=1000,
        initial="train=0.8, validation=0.1, test=0.1",
        label="Splits",
        help_text="name=share, separated by commas; the shares add up to 1.",
    )
    seed = forms.IntegerField(
        required=False, min_value=0, help_text="Empty for a random seed. The seed used is recorded."
    )
    stratify_by = forms.ChoiceField(
        required=False, label="Stratify by", help_text="Keep the ratios within each value."
    )
    group_by = forms.ChoiceField(
        required=False, label="Group by", help_text="Items sharing a value stay together."
    )
    only_unassigned = forms.BooleanField(required=False, label="Only items without a split")

    def __init__(self, *args, field_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((name, name) for name in field_names)]
        self.fields["stratify_by"].choices = choices
        self.fields["group_by"].choices = choices

    def clean_ratios(self) -> dict[str, float]:
        """'train=0.8, validation=0.1, test=0.1' -> {"train": 0.8, ...}; the service checks names and sums."""
        ratios: dict[str, float] = {}
        for part in self.cleaned_data["ratios"].split(","):
            if not part.strip():
                continue
            name, sep, share = part.partition("=")
            name = name.strip()
            try:
                value = float(share)
            except ValueError:
                value = None
            if not sep or not name or value is None:
                raise forms.ValidationError(
                    f"Write each split as name=share, e.g. train=0.8 (not {part.strip()!r})."
                )
            if name in ratios:
                raise forms.ValidationError(f"{name!r} appears twice.")
            ratios[name] = value
        if not ratios:
            raise forms.ValidationError("Name at least one split.")
        return ratios
