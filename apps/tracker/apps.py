from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "apps.tracker"
    label = "tracker"
