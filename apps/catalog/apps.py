from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    label = "catalog"

    def ready(self) -> None:
        from apps.catalog.models import Collection, Identifier, SchemaVersion
        from apps.core.cache import catalog_models_watched

        catalog_models_watched(Collection, Identifier, SchemaVersion)
        from apps.catalog import links, serializers  # noqa: F401  (register links, snapshots)
