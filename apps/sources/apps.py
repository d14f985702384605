from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "apps.sources"
    label = "sources"

    def ready(self) -> None:
        from apps.core.cache import catalog_models_watched
        from apps.sources.models import Source

        catalog_models_watched(Source)
        from apps.sources import links, serializers  # noqa: F401  (register links, snapshots)
