"""Every write of the catalog: collections, their schema versions and identifiers
(registry.py), and dry runs of a schema change (dry_runs.py)."""

from apps.catalog.services.dry_runs import schema_dry_run_scan, schema_dry_run_start
from apps.catalog.services.registry import (
    Registered,
    Updated,
    checked_schema,
    collection_create,
    collection_delete,
    collection_update,
    identifier_checked,
    identifier_create,
    identifier_delete,
    identifier_problems,
    schema_change_checked,
    schema_version_delete,
    schema_version_register,
)

__all__ = [
    "Registered", "Updated", "checked_schema", "collection_create", "collection_delete",
    "collection_update", "identifier_checked", "identifier_create", "identifier_delete",
    "identifier_problems", "schema_change_checked", "schema_dry_run_scan",
    "schema_dry_run_start", "schema_version_delete", "schema_version_register",
]
