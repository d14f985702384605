from django.urls import path

from apps.audit import apis

urlpatterns = [
    path("audit", apis.AuditEntryListApi.as_view(), name="audit-entry-list"),
    path("audit/<str:entry_id>", apis.AuditEntryDetailApi.as_view(), name="audit-entry-detail"),
]
