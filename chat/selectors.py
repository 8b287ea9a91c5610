"""Read paths of the chat app: the model catalog as people see it."""

from django.db.models import QuerySet

from chat.exceptions import UnknownModel
from chat.models import AIModel


def catalog_models(*, include_disabled: bool = False) -> QuerySet[AIModel]:
    """Return the catalog in picker order, with providers and price history loaded in two queries in all.

    Without `include_disabled`, leave out models that are turned off and models of providers that are.
    """
    models = AIModel.objects.select_related("provider").prefetch_related("prices").order_by("sort_order", "name")
    if not include_disabled:
        models = models.filter(enabled=True, provider__enabled=True)
    return models


def catalog_model(slug: str) -> AIModel:
    """Return the enabled model called `slug`; raise `UnknownModel` for any other slug."""
    try:
        return catalog_models().get(slug=slug)
    except AIModel.DoesNotExist:
        raise UnknownModel(f"There is no model called {slug!r}.") from None
