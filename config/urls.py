from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from apps.core.errors import method_not_allowed
from apps.ingestion.apis import HealthApi, MetricsApi

public = {"permission_classes": [AllowAny], "authentication_classes": []}

org_urls = [  # the ingestion paths first: they are the busiest
    path("", include("apps.ingestion.urls")),
    path("", include("apps.records.urls")),  # after ingestion's rejected/replay
    path("", include("apps.tracker.urls")),
    path("", include("apps.sources.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.profiles.urls")),
    path("", include("apps.orgs.urls")),
    path("", include("apps.audit.urls")),
]

urlpatterns = [
    # the front (config/nginx.py) asks for it, never a client: nginx keeps the prefix internal
    path(".sluice-front/method-not-allowed", method_not_allowed),
    path("admin/", admin.site.urls),
    path("v1/schema", SpectacularAPIView.as_view(**public), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema", **public), name="docs"),
    path("v1/redoc", SpectacularRedocView.as_view(url_name="schema", **public), name="redoc"),
    path("v1/health", HealthApi.as_view(**public), name="health"),
    path("v1/metrics", MetricsApi.as_view(**public), name="metrics"),
    path("v1/", include("apps.tracker.segment_urls")),  # /v1/batch, /v1/track, ...
    path("v1/<str:org>/", include(org_urls)),
    path("v3/", include("apps.fuzy.urls")),
    path("api/", include("apps.tracker.collector_urls")),
]

handler400 = "apps.core.errors.bad_request"
handler403 = "apps.core.errors.permission_denied"
handler404 = "apps.core.errors.page_not_found"
handler500 = "apps.core.errors.server_error"
