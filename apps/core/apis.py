"""The base of every API view that touches an org's data: the org is resolved once, from the
URL or from the key, after the key has been checked against it (see permissions.py)."""

from typing import Any, TypeVar

from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.actors import Actor
from apps.core.exceptions import NotFound, NotJSON
from apps.core.permissions import org_key_checked

T = TypeVar("T")


class OrgAPIView(APIView):
    """`self.org` is the org of the request, already checked against its key; `self.actor` is
    who the services that change the org record as having made the change (the key). A view
    whose URL names no org (a vendor's front door) says `org_in_url = False`: the key's org is
    used."""

    org_in_url = True
    write_key_methods: tuple[str, ...] = ()  # all others need a secret key
    body_required = False  # True: a POST or PUT without a body is refused

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not hasattr(self, str(request.method).lower()):  # wrong with any key, or none
            self.http_method_not_allowed(request)
        super().initial(request, *args, **kwargs)
        self.key = org_key_checked(
            request, org_in_url=kwargs.get("org", "") if self.org_in_url else None,
            write_key_methods=self.write_key_methods)
        self.org = self.key.org
        if self.body_required and request.method in ("POST", "PUT") and request.stream is None:
            raise NotJSON("the body is empty")

    @property
    def actor(self) -> Actor:
        return Actor.key(self.key, self.request)

    def found(self, obj: T | None) -> T:
        """The object, or the same 404 as for anything that does not exist."""
        if obj is None:
            raise NotFound()
        return obj

    def valid(self, serializer_class: type[serializers.Serializer], *,  # type: ignore[type-arg]
              partial: bool = False) -> dict[str, Any]:
        """The request body, validated by `serializer_class`; a 400 naming each field if not."""
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["The body must be one JSON object."]}
            )
        serializer = serializer_class(data=self.request.data, partial=partial,
                                      context={"request": self.request, "org": self.org})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def output(self, serializer_class: type[serializers.Serializer], instance: Any,  # type: ignore[type-arg]
               **kwargs: Any) -> Any:
        return serializer_class(instance, context={"request": self.request}, **kwargs).data
