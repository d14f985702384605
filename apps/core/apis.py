"""The base of every org-scoped API view: the org is resolved from the URL once, after the
key has been checked against it (see permissions.py)."""

from typing import Any, TypeVar

from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.exceptions import NotFound
from apps.core.permissions import key_of

T = TypeVar("T")


class OrgAPIView(APIView):
    """`self.org` is the org of the URL, already checked against the key."""

    write_key_methods: tuple[str, ...] = ()  # all others need a secret key

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.org = key_of(request).org

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


class IngestAPIView(OrgAPIView):
    """Write keys may POST records here as well as secret keys."""

    write_key_methods = ("POST",)
