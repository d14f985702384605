from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from apps.audit.models import AuditEntry
from apps.core.selectors import org_object_get
from apps.orgs.models import Org


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list; each part left None matches all. `action` is an action
    (`collection.updated`) or the part before its dot (`collection`)."""

    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_entry_list(*, org: Org, where: AuditFilter = AuditFilter()) -> QuerySet[AuditEntry]:
    """The org's audit entries, newest first."""
    entries = AuditEntry.objects.filter(org=org)
    if where.action is not None:
        entries = (entries.filter(action=where.action) if "." in where.action
                   else entries.filter(action__startswith=f"{where.action}."))
    if where.target_type is not None:
        entries = entries.filter(target_type=where.target_type)
    if where.target_id is not None:
        entries = entries.filter(target_id=where.target_id)
    if where.since is not None:
        entries = entries.filter(at__gte=where.since)
    if where.until is not None:
        entries = entries.filter(at__lt=where.until)
    return entries.order_by("-id")


def audit_entry_get(*, org: Org, entry_id: object) -> AuditEntry | None:
    """The org's entry with this id, or None."""
    return org_object_get(AuditEntry.objects.all(), org=org, ref=entry_id)
