import functools
from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from apps.core import links
from apps.core.ids import parse_id


@extend_schema_field({"type": "string", "pattern": "^[0-9]+$",
                      "example": "98092788222918656"})
class IdField(serializers.Field):  # type: ignore[type-arg]
    """A 64-bit id: written as a JSON string, read from a string or a number."""

    default_error_messages = {
        "invalid": "Must be an id: a positive integer, as a number or a string."
    }

    def to_representation(self, value: int) -> str:
        return str(value)

    def to_internal_value(self, data: Any) -> int:
        parsed = parse_id(data)
        if parsed is None:
            self.fail("invalid")
        return parsed


class TextField(serializers.CharField):
    """Text, sent as a JSON string: a number or a boolean is refused rather than turned into
    text."""

    default_error_messages = {"invalid": "Must be text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


@extend_schema_field({
    "type": "object", "description": "HAL links: `self`, then those that lead on.",
    "additionalProperties": {"type": "object", "required": ["href"],
                             "properties": {"href": {"type": "string", "format": "uri"}}},
})
class LinksField(serializers.Field):  # type: ignore[type-arg]
    """`_links`: an object's registered links (apps/core/links.py); in a schema of an answer
    that is no object, its OpenAPI shape only."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> dict[str, dict[str, str]]:
        return links.links_for(value, self.context["request"])


class HalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An output serializer whose representation carries the object's `_links`, last (but in
    an audit snapshot, core/snapshots.py)."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields: dict[str, serializers.Field] = dict(super().get_fields())  # type: ignore[type-arg]
        if not self.context.get("snapshot"):
            fields["_links"] = LinksField()
        return fields


@functools.cache
def hal_list_schema(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:  # type: ignore[type-arg]
    """The OpenAPI shape of a HAL list of `item`s (documentation only)."""
    return inline_serializer(
        name=f"{item.__name__.removesuffix('Output')}List",
        fields={
            "_embedded": inline_serializer(
                name=f"{item.__name__.removesuffix('Output')}ListEmbedded",
                fields={name: item(many=True)},
            ),
            "_links": serializers.DictField(child=serializers.DictField()),
            "page": serializers.DictField(),
        },
    )
