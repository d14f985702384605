from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit import selectors
from apps.audit.models import Action
from apps.audit.selectors import AuditFilter
from apps.audit.serializers import AuditEntryOutput
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput
from apps.core.ids import parse_id
from apps.core.pagination import hal_list, page_of, time_param
from apps.core.serializers import hal_list_schema

ACTIONS = sorted({action.value for action in Action})
TARGET_TYPES = sorted({action.value.split(".")[0] for action in Action} - {"schema"})
# an action, or every action on a type (a schema version's are `schema.*`)
ACTION_FILTERS = ACTIONS + TARGET_TYPES + ["schema"]
LIST_HELP = ("Every change to the org's catalog (sources, collections, schema versions, "
             "identifiers, compatibility) and to its keys, newest first: who made it (an API "
             "key, an admin user, or a manage.py command), what it was, and the object before "
             "and after. Secret keys only.")


def _one_of(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise InvalidInput.field(name, Code.INVALID_CHOICE,
                                 f"`{name}` is one of: {', '.join(choices)}.")
    return value


def _target_id(request: Request) -> str | None:
    value = request.query_params.get("targetId")
    if value is not None and parse_id(value) is None:
        raise InvalidInput.field("targetId", Code.INVALID, "`targetId` is an id: a positive "
                                 "integer.")
    return value


def audit_filter(request: Request) -> AuditFilter:
    """The list's filters, from the query; a 400 naming the parameter when one is wrong."""
    return AuditFilter(
        action=_one_of(request, "action", ACTION_FILTERS),
        target_type=_one_of(request, "targetType", TARGET_TYPES),
        target_id=_target_id(request),
        since=time_param(request, "since"), until=time_param(request, "until"),
    )


class AuditEntryListApi(OrgAPIView):
    @extend_schema(
        responses=hal_list_schema("audit", AuditEntryOutput), operation_id="audit_list",
        description=LIST_HELP,
        parameters=[
            OpenApiParameter("action", str, enum=ACTION_FILTERS,
                             description="only this action, or (the part before the dot) "
                             "every action on this type"),
            OpenApiParameter("targetType", str, enum=TARGET_TYPES,
                             description="only changes of this type of object"),
            OpenApiParameter("targetId", str, description="only changes of the object with "
                             "this id (a collection's also holds its schema versions)"),
            OpenApiParameter("since", str, description="ISO 8601: changes at or after"),
            OpenApiParameter("until", str, description="ISO 8601: changes before"),
            OpenApiParameter("page", int, description="0-based page number"),
            OpenApiParameter("size", int, description="entries per page (20; at most 200)"),
        ],
    )
    def get(self, request: Request, org: str) -> Response:
        entries = selectors.audit_entry_list(org=self.org, where=audit_filter(request))
        items, page = page_of(entries, request)
        return Response(hal_list(request, "audit",
                                 self.output(AuditEntryOutput, items, many=True), page))


class AuditEntryDetailApi(OrgAPIView):
    @extend_schema(responses=AuditEntryOutput, operation_id="audit_read")
    def get(self, request: Request, org: str, entry_id: str) -> Response:
        entry = self.found(selectors.audit_entry_get(org=self.org, entry_id=entry_id))
        return Response(self.output(AuditEntryOutput, entry))
