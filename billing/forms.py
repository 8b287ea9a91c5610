"""Validation of what people send billing (the estimate query, their settings): clear messages, sane bounds."""

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


MAX_AUTO_CEILING_CREDITS = 1_000_000_000_000  # half a million USD at the default rate: more is surely a typo


class CreditsField(forms.IntegerField):
    """A whole number of credits, as people write it: "5000", "5,000" or "5 000"."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(",", "").replace(" ", "").replace("_", "")
        return super().to_python(value)


class AutoCeilingForm(forms.Form):
    auto_ceiling_credits = CreditsField(
        label="Never spend more than this many credits on an Auto reply",
        required=False,
        min_value=1,
        max_value=MAX_AUTO_CEILING_CREDITS,
        error_messages={
            "invalid": "Enter a whole number of credits, such as 5000, or leave it blank for no ceiling.",
            "min_value": "Enter at least 1 credit, or leave it blank for no ceiling.",
            "max_value": f"Enter at most {MAX_AUTO_CEILING_CREDITS:,} credits, or leave it blank for no ceiling.",
        },
    )
