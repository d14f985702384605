"""The Fuzy-style API under /v3/: the org is the key's own (no org in the URL)."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.builtin_names import BuiltinCollection
from apps.core import links
from apps.core.apis import OrgAPIView
from apps.core.exceptions import InvalidInput
from apps.core.serializers import LinksField
from apps.fuzy import services
from apps.fuzy.links import FuzyProfile
from apps.ingestion.apis import INGEST_ANSWER, RecordsBody, ingest_answer
from apps.records.selectors import builtin_data, builtin_data_list

RECORD = inline_serializer("FuzyRecord", {  # and, beside `_links`, the record's own fields
    "_links": LinksField(help_text="`self`; a user's `account`, an account's `parentAccount`")})
def optional_text(**kwargs: Any) -> serializers.CharField:
    """A text field of a request's documentation that may be left out, blank or null (as
    the built-in collections' schemas take it)."""
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, **kwargs)


PARTIAL_NOTE = ("Each object names only what changes; the other fields keep their stored "
                "values, and a map (`traits`, `paymentProcessorIds`) merges key by key.")


class FuzyAPIView(RecordsBody, OrgAPIView):
    """Any live key of the org; a write key may only send events."""

    org_in_url = False

    def items(self, name: str) -> list[Any]:
        """The body as a list: one object, a JSON array, or `{"<name>": [...]}`."""
        payload = self.request.data
        if isinstance(payload, dict) and set(payload) == {name}:
            payload = payload[name]
        items = payload if isinstance(payload, list) else [payload]
        bad = [(f"{name}[{i}]", "not_an_object", "Send JSON objects.")
               for i, item in enumerate(items) if not isinstance(item, dict)]
        if bad:
            raise InvalidInput(errors=bad)
        return items

    def read(self, collection: str, key: str) -> Response:
        data = self.found(builtin_data(org=self.org, collection=collection, key=key))
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
        products = builtin_data_list(org=self.org, collection=BuiltinCollection.PRODUCTS)
        return Response({"products": products, "_links": links.answer_links(request)})

    @extend_schema(request=inline_serializer("FuzyProduct", {
        "productId": serializers.CharField(), "name": optional_text(
            help_text="required when the product is new")}),
        responses={202: INGEST_ANSWER}, operation_id="v3_products_create",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        return self.write(BuiltinCollection.PRODUCTS, "productId", self.items("products"))


class ProductDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_products_read")
    def get(self, request: Request, product_id: str) -> Response:
        return self.read(BuiltinCollection.PRODUCTS, product_id)

    @extend_schema(request=inline_serializer("FuzyProductChange", {
        "name": optional_text()}), responses={202: INGEST_ANSWER},
        operation_id="v3_products_update", description=PARTIAL_NOTE)
    def put(self, request: Request, product_id: str) -> Response:
        [change] = self.items("products")[:1] or [{}]
        return self.write(BuiltinCollection.PRODUCTS, "productId",
                          [{**change, "productId": product_id}])


class AccountListApi(FuzyAPIView):
    @extend_schema(request=inline_serializer("FuzyAccount", {
        "accountId": serializers.CharField(), "name": optional_text(),
        "parentAccountId": optional_text(),
        "paymentProcessorIds": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_accounts_upsert",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        accounts = self.items("accounts")
        cycles = services.account_cycle_problems(org=self.org, accounts=accounts,
                                                 path="accounts")
        if cycles:
            raise InvalidInput(errors=cycles)
        return self.write(BuiltinCollection.ACCOUNTS, "accountId", accounts)


class AccountDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_accounts_read")
    def get(self, request: Request, account_id: str) -> Response:
        return self.read(BuiltinCollection.ACCOUNTS, account_id)


class UserListApi(FuzyAPIView):
    @extend_schema(request=inline_serializer("FuzyUser", {
        "userId": serializers.CharField(), "accountId": optional_text(),
        "email": optional_text(),
        "traits": serializers.DictField(required=False),
        "paymentProcessorIds": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_users_upsert",
        description=PARTIAL_NOTE)
    def post(self, request: Request) -> Response:
        return self.write(BuiltinCollection.USERS, "userId", self.items("users"))


class UserDetailApi(FuzyAPIView):
    @extend_schema(responses=RECORD, operation_id="v3_users_read")
    def get(self, request: Request, user_id: str) -> Response:
        return self.read(BuiltinCollection.USERS, user_id)


class EventApi(FuzyAPIView):
    write_key_methods = ("PUT",)

    @extend_schema(request=inline_serializer("FuzyEvent", {
        "description": serializers.CharField(), "timestamp": serializers.CharField(),
        "userId": optional_text(),
        "user": serializers.DictField(required=False),
        "accountId": optional_text(),
        "productId": optional_text(),
        "properties": serializers.DictField(required=False)}),
        responses={202: INGEST_ANSWER}, operation_id="v3_events_send",
        description="One event, a JSON array or `{\"events\": [...]}`. A full `user` object "
        "(with its `account`) creates or updates that user and account too.")
    def put(self, request: Request) -> Response:
        return ingest_answer(services.events_write(org=self.org, events=self.items("events")),
                             request, org=self.org.slug)
