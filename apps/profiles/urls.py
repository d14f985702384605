"""Profiles and identity under /v1/<org>/."""

from django.urls import path

from apps.profiles import apis

urlpatterns = [
    path("profiles/merges", apis.MergeListApi.as_view(), name="profile-merges"),
    path("profiles/<str:collection>/<str:key>", apis.ProfileApi.as_view(),
         name="profile-detail"),
    path("profiles/<str:collection>/<str:key>/related/<str:other>",
         apis.ProfileRelatedApi.as_view(), name="profile-related"),
]
