from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "apps.profiles"
    label = "profiles"

    def ready(self) -> None:
        from apps.profiles import links  # noqa: F401  (registers the HAL links)
