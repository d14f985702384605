from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"

    def ready(self) -> None:
        from apps.ingestion import links  # noqa: F401  (registers the HAL links)
