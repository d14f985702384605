"""The whole API is described by a valid OpenAPI 3 schema, browsable without a CDN."""

import re

import httpx
from django.urls import get_resolver
from openapi_spec_validator import validate


def test_the_openapi_schema_is_valid_and_names_every_endpoint(server_url):
    schema = httpx.get(f"{server_url}/v1/schema", params={"format": "json"}).json()
    validate(schema)
    documented = set(schema["paths"])
    org_routes = get_resolver().url_patterns
    routes = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, text)
            elif text.startswith(("v1/", "v3/", "api/")):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text))

    walk(org_routes, "")
    routes -= {"/v1/schema", "/v1/docs", "/v1/redoc"}
    assert routes and routes <= documented, routes - documented


def test_the_docs_are_served_from_sluice_itself(server_url):
    for page in ("/v1/docs", "/v1/redoc"):
        html = httpx.get(f"{server_url}{page}").text
        scripts = re.findall(r'src="([^"]+)"', html)
        assert scripts and all(src.startswith("/static/") for src in scripts), scripts
        for src in scripts:
            assert httpx.get(f"{server_url}{src}").status_code == 200
