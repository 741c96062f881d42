from django import forms


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="For example: training-pipeline")
