from django.apps import AppConfig


class FuzyConfig(AppConfig):
    name = "apps.fuzy"
    label = "fuzy"

    def ready(self) -> None:
        from apps.fuzy import links  # noqa: F401  (registers the HAL links)
