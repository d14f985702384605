from django.urls import path

from apps.sources import apis

urlpatterns = [
    path("sources", apis.SourceListApi.as_view(), name="source-list"),
    path("sources/<str:source_id>", apis.SourceDetailApi.as_view(), name="source-detail"),
]
