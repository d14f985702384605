from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "apps.orgs"
    label = "orgs"
    default_auto_field = "django.db.models.BigIntegerField"

    def ready(self) -> None:
        from apps.core.cache import catalog_models_watched
        from apps.orgs import links  # noqa: F401  (registers the HAL links)
        from apps.orgs.models import ApiKey, Org

        catalog_models_watched(Org, ApiKey)
        from apps.orgs import serializers  # noqa: F401  (registers the snapshots)
