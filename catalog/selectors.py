"""Read paths of the catalog: the models people may pick, with their providers and price history."""

from django.db.models import QuerySet

from catalog.models import AIModel


def catalog_models(*, include_disabled: bool = False) -> QuerySet[AIModel]:
    """Return the catalog in picker order, with providers and price history loaded in two queries in all.

    Without `include_disabled`, leave out models that are turned off and models of providers that are.
    """
    models = AIModel.objects.select_related("provider").prefetch_related("prices").order_by("sort_order", "name")
    if not include_disabled:
        models = models.filter(enabled=True, provider__enabled=True)
    return models
