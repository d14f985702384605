"""Segment's Tracking API at the root of /v1/ (the org is the key's): each call, its short
form, and the batch (also at /v1/b). Their names are reserved: no org may take one as its slug."""
from django.urls import path

from apps.tracker import apis
from apps.tracker.segment import CALLS, SHORT_FORMS

# /v1/b: analytics-next's batching delivery
PATHS = {"batch": "batch", "b": "batch", **{call: call for call in CALLS}, **SHORT_FORMS}

urlpatterns = [
    *(path(name, apis.SegmentApi.as_view(), {"call": call}, name=f"segment-{name}")
      for name, call in PATHS.items()),
    path("m", apis.SegmentMetricsApi.as_view(), name="segment-metrics"),
]
