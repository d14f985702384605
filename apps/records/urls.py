"""Records and rejected records under /v1/<org>/ (included after apps.ingestion.urls, whose
`rejected/replay` would otherwise be taken for a rejected record's id). The list of a
collection's records is served at ingestion's `collections/<id>/data`, with the POST."""

from django.urls import path

from apps.records import apis

urlpatterns = [
    path("collections/<str:collection_id>/data/<str:record_id>", apis.RecordDetailApi.as_view(),
         name="record-detail"),
    path("rejected", apis.RejectedListApi.as_view(), name="rejected-list"),
    path("rejected/<str:rejected_id>", apis.RejectedDetailApi.as_view(), name="rejected-detail"),
]
