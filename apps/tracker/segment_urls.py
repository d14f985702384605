"""Segment's Tracking API at the root of /v1/ (the org is the key's): each call, its short
form, and the batch. Their names are reserved: no org may take one as its slug."""
from django.urls import path

from apps.tracker import apis
from apps.tracker.segment import CALLS, SHORT_FORMS

PATHS = {"batch": "batch", **{call: call for call in CALLS}, **SHORT_FORMS}

urlpatterns = [
    path(name, apis.SegmentApi.as_view(), {"call": call}, name=f"segment-{name}")
    for name, call in PATHS.items()
]
