"""How answers are written: JSON, as DRF writes it, that never fails on what a request sent.
A field name holding a lone UTF-16 surrogate, named back in a problem, has no UTF-8 form;
such an answer is written with `\\u` escapes instead (still JSON, as every parser reads it)."""

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _Escaped().render(data, accepted_media_type, renderer_context)


class _Escaped(renderers.JSONRenderer):
    ensure_ascii = True
