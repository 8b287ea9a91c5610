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


MAX_KEY_LIMIT_CREDITS = MAX_AUTO_CEILING_CREDITS  # the same typo guard as the Auto ceiling's
KEY_NAME_MAX_CHARS = 100  # ApiKey.name


def key_limit_field(label: str, *, blank_means: str) -> CreditsField:
    """Return an optional spend limit of an API key, in whole credits; blank means `blank_means`."""
    return CreditsField(
        label=label,
        required=False,
        min_value=1,
        max_value=MAX_KEY_LIMIT_CREDITS,
        error_messages={
            "invalid": f"Enter a whole number of credits, such as 5000, or leave it blank for {blank_means}.",
            "min_value": f"Enter at least 1 credit, or leave it blank for {blank_means}.",
            "max_value": f"Enter at most {MAX_KEY_LIMIT_CREDITS:,} credits, or leave it blank for {blank_means}.",
        },
    )


class ApiKeyForm(forms.Form):
    """An API key's name, spend limits and models, as created or changed on the API keys page.

    `models` are the choices as (slug, name) pairs: the enabled catalog, plus any model the key already allows
    (so saving a key does not drop a model that was since turned off unless the person unticks it).
    """

    name = forms.CharField(
        label="Name",
        max_length=KEY_NAME_MAX_CHARS,
        error_messages={
            "required": "Give the key a name, such as the program that uses it.",
            "max_length": f"Keep the name to {KEY_NAME_MAX_CHARS} characters.",
        },
    )
    daily_limit_credits = key_limit_field("Daily limit (credits)", blank_means="no daily limit")
    total_limit_credits = key_limit_field("Total limit (credits)", blank_means="no total limit")
    allowed_models = forms.MultipleChoiceField(
        label="Models",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "%(value)s is not one of the models offered; tick models from the list."},
    )

    def __init__(self, *args, models: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_models"].choices = models
