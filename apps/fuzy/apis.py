"""The Fuzy-style API under /v3/: the org is the key's own (no org in the URL)."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import links
from apps.core.exceptions import InvalidInput, NotFound
from apps.core.permissions import WRITE_KEY_DETAIL, key_of
from apps.core.serializers import LinksField
from apps.fuzy import selectors, services
from apps.fuzy.links import FuzyProfile
from apps.ingestion.apis import INGEST_ANSWER, ingest_answer
from apps.ingestion.body import read_json

RECORD = inline_serializer("FuzyRecord", {
    "data": serializers.DictField(),
    "_links": LinksField(help_text="`self`; a user's `account`, an account's `parentAccount`")})
PARTIAL_NOTE = ("Each object names only what changes; the other fields keep their stored "
                "values, and a map (`traits`, `paymentProcessorIds`) merges key by key.")


class KeyOrgPermission(BasePermission):
    """Any live key; a write key may only send events."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in getattr(view, "write_key_methods", ()) and \
                not key_of(request).is_secret:
            raise exceptions.PermissionDenied(WRITE_KEY_DETAIL)
        return True


class FuzyAPIView(APIView):
    permission_classes = [KeyOrgPermission]
    write_key_methods: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.org = key_of(request).org

    def items(self, name: str) -> list[Any]:
        """The body as a list: one object, a JSON array, or `{"<name>": [...]}`."""
        payload = read_json(self.request._request)
        if isinstance(payload, dict) and set(payload) == {name}:
            payload = payload[name]
        items = payload if isinstance(payload, list) else [payload]
        bad = [(f"{name}[{i}]", "not_an_object", "Send JSON objects.")
               for i, item in enumerate(items) if not isinstance(item, dict)]
        if bad:
            raise InvalidInput(errors=bad)
        return items

    def read(self, collection: str, key: str) -> Response:
        data = selectors.profile_data(org=self.org, collection=collection, key=key)
        if data is None:
            raise NotFound()
        return Response({**data, "_links": links.answer_links(
            self.request, FuzyProfile(collection, data), self.org.slug)})

    def write(self, collection: str, key_field: str, items: list[dict[str, Any]]) -> Response:
        missing = [(f"{collection}[{i}].{key_field}", "required", f"`{key_field}` is required.")
                   for i, item in enumerate(items) if not item.get(key_field)]
        if missing:
            raise InvalidInput(errors=missing)
        return ingest_answer(services.builtin_write(org=self.org, records={collection: items}),
                             self.request, org=self.org.slug)


class ProductListApi(FuzyAPIView):
    @extend_schema(responses=inline_serializer("FuzyProducts", {
        "products": serializers.ListField(child=serializers.DictField()),
        "_links": LinksField()}),
        operation_id="v3_products_list")
    def get(self, request: Request) -> Response:
        return Response({"products": selectors.products_data(org=self.org),
                         "_links": links.answer_links(request)})

    @extend_schema(request=inline_serializer("FuzyProduct", {
        "productId": serializers.CharField(), "name": serializers.CharField(
            required=False, help_text="required when the product is new")}),
        responses={202: INGEST_ANSWER}, operation_id="v3_products_create",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        return self.write("products", "productId", self.items("products"))


class ProductDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_products_read")
    def get(self, request: Request, product_id: str) -> Response:
        return self.read("products", product_id)

    @extend_schema(request=inline_serializer("FuzyProductChange", {
        "name": serializers.CharField(required=False)}), responses={202: INGEST_ANSWER},
        operation_id="v3_products_update", description=PARTIAL_NOTE)
    def put(self, request: Request, product_id: str) -> Response:
        [change] = self.items("products")[:1] or [{}]
        return self.write("products", "productId", [{**change, "productId": product_id}])


class AccountListApi(FuzyAPIView):
    @extend_schema(request=inline_serializer("FuzyAccount", {
        "accountId": serializers.CharField(), "name": serializers.CharField(required=False),
        "parentAccountId": serializers.CharField(required=False),
        "paymentProcessorIds": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_accounts_upsert",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        accounts = self.items("accounts")
        cycles = services.account_cycle_problems(org=self.org, accounts=accounts,
                                                 path="accounts")
        if cycles:
            raise InvalidInput(errors=cycles)
        return self.write("accounts", "accountId", accounts)


class AccountDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_accounts_read")
    def get(self, request: Request, account_id: str) -> Response:
        return self.read("accounts", account_id)


class UserListApi(FuzyAPIView):
    @extend_schema(request=inline_serializer("FuzyUser", {
        "userId": serializers.CharField(), "accountId": serializers.CharField(required=False),
        "email": serializers.CharField(required=False),
        "traits": serializers.DictField(required=False),
        "paymentProcessorIds": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_users_upsert",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        return self.write("users", "userId", self.items("users"))


class UserDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_users_read")
    def get(self, request: Request, user_id: str) -> Response:
        return self.read("users", user_id)


class EventApi(FuzyAPIView):
    write_key_methods = ("PUT",)

    @extend_schema(request=inline_serializer("FuzyEvent", {
        "description": serializers.CharField(), "timestamp": serializers.CharField(),
        "userId": serializers.CharField(required=False),
        "user": serializers.DictField(required=False),
        "accountId": serializers.CharField(required=False),
        "productId": serializers.CharField(required=False),
        "properties": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_events_send",
        description="One event, a JSON array or `{\"events\": [...]}`. A full `user` object "
        "(with its `account`) creates or updates that user and account too.")
    def put(self, request: Request) -> Response:
        return ingest_answer(services.events_write(org=self.org, events=self.items("events")),
                             request, org=self.org.slug)
