from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "apps.records"
    label = "records"

    def ready(self) -> None:
        from apps.records import links  # noqa: F401  (registers the HAL links)
