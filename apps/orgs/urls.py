"""An org's API keys under /v1/<org>/keys."""

from django.urls import path

from apps.orgs import apis

urlpatterns = [
    path("keys", apis.KeyListApi.as_view(), name="key-list"),
    path("keys/<str:key_id>", apis.KeyDetailApi.as_view(), name="key-detail"),
    path("keys/<str:key_id>/rotate", apis.KeyRotateApi.as_view(), name="key-rotate"),
]
