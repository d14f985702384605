from django.apps import AppConfig


class FuzyConfig(AppConfig):
    name = "apps.fuzy"
    label = "fuzy"
