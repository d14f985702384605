from django.urls import path

from apps.catalog import apis

urlpatterns = [
    path("collections", apis.CollectionListApi.as_view(), name="collection-list"),
    path("collections/<str:collection_id>", apis.CollectionDetailApi.as_view(),
         name="collection-detail"),
    path("collections/<str:collection_id>/identifiers", apis.CollectionIdentifierListApi.as_view(),
         name="collection-identifier-list"),
    path("collections/<str:collection_id>/schemas", apis.SchemaVersionListApi.as_view(),
         name="schema-version-list"),
    path("collections/<str:collection_id>/schemas/<int:version>",
         apis.SchemaVersionDetailApi.as_view(), name="schema-version-detail"),
    path("collections/<str:collection_id>/dry-runs/<str:dry_run_id>",
         apis.SchemaDryRunDetailApi.as_view(), name="schema-dry-run-detail"),
    path("identifiers", apis.IdentifierListApi.as_view(), name="identifier-list"),
    path("identifiers/<str:identifier_id>", apis.IdentifierDetailApi.as_view(),
         name="identifier-detail"),
    path("relations", apis.RelationListApi.as_view(), name="relation-list"),
    path("config", apis.ConfigApi.as_view(), name="config"),
]
