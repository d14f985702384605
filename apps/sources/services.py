import secrets
from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.models import Action
from apps.audit.services import record
from apps.core.actors import Actor
from apps.core.codes import Code
from apps.core.exceptions import Conflict
from apps.core.snapshots import snapshot
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_create
from apps.sources.models import Source


def _tracker_id() -> str:
    return secrets.token_hex(8)


def _duplicate(name: str) -> Conflict:
    return Conflict(f"A source named {name!r} exists already in this org. Choose another name.",
                    code=Code.DUPLICATE_NAME)


def _recorded(actor: Actor, action: Action, source: Source, before: dict[str, Any] | None,
              after: Source | None) -> None:
    record(actor=actor, org=source.org, action=action, target_type="source",
           target_id=source.id, before=before,
           after=snapshot(after) if after is not None else None)


@transaction.atomic
def source_create(*, actor: Actor, org: Org, name: str, type: str, title: str = "",
                  description: str = "", allowed_origins: list[str] | None = None) -> Source:
    """A new source; a web source gets its public tracker id and a write key of its own
    (its raw value on `write_key`, this once), for the pages that track into it."""
    source = Source(
        org=org, name=name, type=type, title=title, description=description,
        allowed_origins=allowed_origins or [],
        tracker_id=_tracker_id() if type == Source.Type.WEB else None,
    )
    try:
        with transaction.atomic():
            source.save()
            if source.type == Source.Type.WEB:
                _, source.write_key = api_key_create(
                    actor=actor, org=org, kind=ApiKey.Kind.WRITE, source=source,
                    name=f"{name} tracker key")
    except IntegrityError as error:
        raise _duplicate(name) from error
    _recorded(actor, Action.SOURCE_CREATED, source, None, source)
    return source


@transaction.atomic
def source_update(*, actor: Actor, source: Source, changes: dict[str, Any]) -> Source:
    """Applies the given fields; becoming a web source gives it a tracker id."""
    before = snapshot(source)
    for field, value in changes.items():
        setattr(source, field, value)
    if source.type == Source.Type.WEB and not source.tracker_id:
        source.tracker_id = _tracker_id()
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError as error:
        raise _duplicate(source.name) from error
    if snapshot(source) != before:
        _recorded(actor, Action.SOURCE_UPDATED, source, before, source)
    return source


@transaction.atomic
def source_delete(*, actor: Actor, source: Source) -> None:
    if source.collections.exists():
        names = ", ".join(source.collections.values_list("name", flat=True)[:10])
        raise Conflict(
            f"The source still has collections ({names}). Delete or move them first.",
            code=Code.SOURCE_IN_USE,
        )
    _recorded(actor, Action.SOURCE_DELETED, source, snapshot(source), None)
    source.delete()
