"""The tracker's routes under /v1/<org>/."""

from django.urls import path

from apps.tracker import apis

urlpatterns = [
    path("track", apis.TrackApi.as_view(), name="tracker-track"),
]
