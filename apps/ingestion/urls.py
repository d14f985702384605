from django.urls import path

from apps.ingestion import apis

urlpatterns = [
    path("collections/<str:collection_id>/data", apis.CollectionDataApi.as_view(),
         name="collection-data"),
    path("sources/<str:source_id>/data", apis.SourceDataApi.as_view(), name="source-data"),
    path("rejected/replay", apis.RejectedReplayApi.as_view(), name="rejected-replay"),
]
