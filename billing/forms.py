"""Validation of the estimate query: clear messages for people, bounds that keep the arithmetic sane."""

from django import forms

MAX_REQUESTS = 100_000_000
MAX_TOKENS = 10_000_000


class EstimateForm(forms.Form):
    requests = forms.IntegerField(min_value=1, max_value=MAX_REQUESTS)
    input_tokens = forms.IntegerField(min_value=0, max_value=MAX_TOKENS)
    output_tokens = forms.IntegerField(min_value=0, max_value=MAX_TOKENS)
    models = forms.CharField(required=False, help_text="Comma-separated model slugs; empty means every model.")

    def clean_models(self) -> list[str]:
        return [slug.strip() for slug in self.cleaned_data["models"].split(",") if slug.strip()]
