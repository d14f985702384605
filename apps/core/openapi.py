"""What every operation may answer besides its own successes, written once for the OpenAPI
document: each error status it can answer, as problem details (core/errors.py) under
`application/problem+json`. A drf-spectacular postprocessing hook."""

from typing import Any

from apps.core.errors import PROBLEM_CONTENT_TYPE

PROBLEM_FIELD = {"type": "object", "properties": {
    "code": {"type": "string"}, "detail": {"type": "string"},
    "attr": {"type": "string", "nullable": True, "description": "the field's path"}}}
PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "code", "detail", "errors"],
    "description": "RFC 9457 problem details with a stable `code` (never renamed) and one "
                   "entry in `errors` per problem, naming its field in `attr`.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "code": {"type": "string"},
        "detail": {"type": "string"}, "errors": {"type": "array", "items": PROBLEM_FIELD},
    },
}
MEANINGS = {
    400: "The request is malformed or a field is invalid; `errors` names each field.",
    401: "No key, or a key that is unknown, revoked, expired, or contradicted by another "
         "credential of the same request.",
    403: "The key may not do this (a write key managing, say), or the page's origin is not "
         "allowed.",
    404: "No such object in this org (another org's objects look exactly the same).",
    409: "The change conflicts with what exists (a name taken, a schema its compatibility "
         "mode refuses, an object still in use).",
    413: "The body is larger than this endpoint takes.",
    415: "The body is not JSON (or gzip-compressed JSON).",
    429: "Too many requests for this key or org; wait `Retry-After` seconds.",
    503: "Sluice cannot reach its database or its queue right now; send again later.",
}
WRITES = {"post", "put", "patch", "delete"}


def problem_answers(result: dict[str, Any], generator: Any, request: Any,
                    public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM
    components["responses"] = {
        f"Problem{status}": {"description": meaning,
                             "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref("Problem")}}}
        for status, meaning in MEANINGS.items()}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            _document_problems(path, method, operation)
    return result


def _document_problems(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in _problem_statuses(path, method, operation):
        declared = responses.get(str(status))
        if declared is None:
            responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
        else:  # a problem, or one with the operation's own answer (an ingestion none took)
            own = [media["schema"] for media in declared.get("content", {}).values()]
            responses[str(status)] = {**declared, "content": {PROBLEM_CONTENT_TYPE: {
                "schema": {"anyOf": [{"allOf": [_ref("Problem"), *own]}, _ref("Problem")]}}}}


def _problem_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 503]
    if operation.get("security") != [{}]:  # all but the public ones
        statuses += [401, 403, 429]
    if "{" in path:
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [413, 415]
    if method in WRITES and path.startswith("/v1/{org}/") and "data" not in path:
        statuses.append(409)
    return sorted(statuses)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
