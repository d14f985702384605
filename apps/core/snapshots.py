"""What the audit trail keeps of an object before and after a change: the object as the API
shows it, but for its links (they need a request). Each app registers the output serializer of
its models (in its serializers.py), so services take snapshots without knowing of serializers."""

from typing import Any

_serializers: dict[type, Any] = {}


def register(kind: type, serializer_class: Any) -> None:
    """Snapshots of `kind` are what `serializer_class` (a DRF serializer) shows of it."""
    _serializers[kind] = serializer_class


def snapshot(obj: Any) -> dict[str, Any]:
    """`obj` as the API shows it, links left out; never a raw key or its hash."""
    serializer = _serializers[type(obj)](obj, context={"snapshot": True})
    return dict(serializer.data)
