"""The usage collector's routes at the root (/api/...), as the Churn360 collector calls them."""

from django.urls import path

from apps.tracker import apis

urlpatterns = [
    path("initialize", apis.CollectorInitializeApi.as_view(), name="collector-initialize"),
    path("collect", apis.CollectorCollectApi.as_view(), name="collector-collect"),
]
