from apps.audit.models import AuditEntry
from apps.core import links

TARGET_URLS = {  # the address of each kind of target, by the name of its id in the URL
    "source": ("source-detail", "source_id"),
    "collection": ("collection-detail", "collection_id"),
    "identifier": ("identifier-detail", "identifier_id"),
}


@links.register(AuditEntry)
def audit_entry_links(entry: AuditEntry, org: str) -> dict[str, str]:
    """`self`, and `target` for a target the API serves (it may have been deleted since)."""
    found = {"self": links.path("audit-entry-detail", org=org, entry_id=entry.id)}
    if entry.target_type in TARGET_URLS:
        name, argument = TARGET_URLS[entry.target_type]
        found["target"] = links.path(name, org=org, **{argument: entry.target_id})
    elif entry.target_type == "org":
        found["target"] = links.path("config", org=org)
    return found
