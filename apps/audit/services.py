"""The one way a change enters the audit trail."""

from typing import Any

from django.db import transaction

from apps.audit.models import Action, AuditEntry
from apps.core.actors import Actor
from apps.orgs.models import Org


class NotInTransaction(RuntimeError):
    """A change recorded outside the transaction that makes it could be kept without the
    change, or the change without it."""


def record(*, actor: Actor, org: Org, action: Action, target_type: str, target_id: object,
           before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> AuditEntry:
    """Keeps one change of `org` in its audit trail, in the transaction that makes the change
    (so that both are kept, or neither). `before` and `after` are the changed object as the
    API shows it (None: it did not exist), never a raw key or its hash."""
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction(f"{action} must be recorded inside the change's transaction")
    return AuditEntry.objects.create(
        org=org, actor_type=actor.kind, actor_id=actor.id, actor_name=actor.name,
        action=action, target_type=target_type, target_id=str(target_id), before=before,
        after=after, request_id=actor.request_id,
    )
