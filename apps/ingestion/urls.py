from django.urls import path

from apps.ingestion import apis

urlpatterns = [
    path("collections/<str:collection_id>/data", apis.CollectionDataApi.as_view(),
         name="collection-data"),
    path("collections/<str:collection_id>/data/<str:record_id>", apis.RecordDetailApi.as_view(),
         name="record-detail"),
    path("sources/<str:source_id>/data", apis.SourceDataApi.as_view(), name="source-data"),
    path("rejected", apis.RejectedListApi.as_view(), name="rejected-list"),
    path("rejected/replay", apis.RejectedReplayApi.as_view(), name="rejected-replay"),
    path("rejected/<str:rejected_id>", apis.RejectedDetailApi.as_view(), name="rejected-detail"),
]
