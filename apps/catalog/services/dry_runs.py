"""Dry runs of a schema change: what registering a schema would do to a collection, found
without changing it. The verdicts of the modes and the identifiers come at once; a worker then
counts the stored records the schema could not read and the rejected records it would accept.

Only versions that Apache Avro's checker cannot vouch for are scanned: when the new schema
reads a version (as a reader of its writer), it reads every record of it, so a compatible
change costs one COUNT however many records there are."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.catalog import avro
from apps.catalog.compatibility import verdicts
from apps.catalog.models import Collection, SchemaDryRun
from apps.catalog.services.registry import checked_schema, identifier_problems
from apps.core.exceptions import SluiceError
from apps.ingestion.services import primary_identifier, record_problems
from apps.records.models import RejectedRecord
from apps.records.selectors import (
    record_counts_by_version,
    record_data_stream,
    rejected_count,
    rejected_stream,
)

KEPT = 20  # dry runs kept per collection: starting another deletes the oldest beyond these
EXAMPLES = 5  # examples kept of unreadable records, and of rejected ones that would pass
PROGRESS_EVERY = 5000  # records scanned between two saves of the progress
FAILED = ("Sluice could not finish the scan: the worker's log says why. Start another dry "
          "run.")


@transaction.atomic
def schema_dry_run_start(*, collection: Collection, schema: Any) -> SchemaDryRun:
    """A new dry run of registering `schema` on the collection, with every mode's verdict and
    the identifiers it breaks, whose scan of records is queued (schema_dry_run_scan);
    InvalidInput for a schema that registering would refuse as invalid."""
    schema = checked_schema(schema)
    versions = list(collection.versions.order_by("version").values_list("version", "schema"))
    found = verdicts(schema=schema, versions=versions)
    unproven = {incompatibility.version for incompatibility in found["BACKWARD_TRANSITIVE"]}
    counts = record_counts_by_version(org=collection.org, collection=collection)
    rejected = rejected_count(org=collection.org, collection=collection)
    dry_run = SchemaDryRun.objects.create(
        org_id=collection.org_id, collection=collection, schema=schema,
        compatibility=collection.compatibility_in_force, rejected=rejected,
        verdicts={mode: {"compatible": not breaks,
                         "incompatibilities": [one.as_json() for one in breaks]}
                  for mode, breaks in found.items()},
        identifiers=[{"attr": attr, "code": code, "detail": detail}
                     for attr, code, detail in identifier_problems(collection, schema)],
        versions=[{"version": version, "records": counts.get(version, 0),
                   "provenReadable": version not in unproven} for version, _ in versions],
        to_scan=rejected + sum(counts.get(version, 0) for version in unproven))
    _pruned(collection)
    # tasks.py calls this module, so it is imported when needed
    from apps.catalog import tasks

    transaction.on_commit(lambda: tasks.dry_run.delay(dry_run.id))
    return dry_run


def _pruned(collection: Collection) -> None:
    kept = collection.dry_runs.order_by("-id").values_list("id", flat=True)[:KEPT]
    collection.dry_runs.exclude(id__in=list(kept)).delete()


def schema_dry_run_scan(*, dry_run_id: int) -> None:
    """Counts, for a running dry run, the stored records its schema could not read and the
    rejected records it would accept, saving its progress as it goes, then marks it done
    (or failed, with the reason). From the start again when a worker died in the middle."""
    dry_run = SchemaDryRun.objects.select_related("collection__org").filter(
        id=dry_run_id, status=SchemaDryRun.Status.RUNNING).first()
    if dry_run is None:
        return  # finished by an earlier delivery, or deleted
    scan = _Scan(dry_run)
    try:
        scan.stored()
        scan.rejected()
    except SluiceError as error:
        scan.finish(SchemaDryRun.Status.FAILED, error.detail)
        return
    except Exception:
        scan.finish(SchemaDryRun.Status.FAILED, FAILED)
        raise
    scan.finish(SchemaDryRun.Status.DONE)


class _Scan:
    """One pass over a dry run's records, keeping its counts and examples on the dry run."""

    def __init__(self, dry_run: SchemaDryRun) -> None:
        self.dry_run, self.collection = dry_run, dry_run.collection
        dry_run.scanned = dry_run.unreadable = dry_run.accepted = 0
        dry_run.unreadable_examples, dry_run.accepted_examples = [], []

    def stored(self) -> None:
        """Reads each record of the versions the checker could not vouch for in the new
        schema, by Avro's resolution rules."""
        unproven = [version["version"] for version in self.dry_run.versions
                    if not version["provenReadable"] and version["records"]]
        if not unproven:
            return
        # resolvers of a proposed schema are the dry run's own: avro.resolver_for caches by
        # version number, and this schema has none
        resolvers = {version: avro.RecordResolver(schema, self.dry_run.schema) for version, schema
                     in self.collection.versions.filter(version__in=unproven)
                     .values_list("version", "schema")}
        for record_id, version, data in record_data_stream(
                org=self.collection.org, collection=self.collection, versions=unproven):
            try:
                resolvers[version].resolved(data)
            except avro.Unresolvable as error:
                self._unreadable(record_id, version, str(error))
            self._progressed()

    def _unreadable(self, record_id: int, version: int, reason: str) -> None:
        self.dry_run.unreadable += 1
        if len(self.dry_run.unreadable_examples) < EXAMPLES:
            self.dry_run.unreadable_examples.append({
                "id": str(record_id), "schemaVersion": version, "reason": reason})

    def rejected(self) -> None:
        """Validates each rejected record as ingestion would under the new schema."""
        if not self.dry_run.rejected:
            return
        validator = avro.RecordValidator(self.dry_run.schema)
        primary = primary_identifier(list(self.collection.identifiers.all()), self.collection)
        for rejected in rejected_stream(org=self.collection.org, collection=self.collection):
            if not record_problems(validator=validator, primary=primary, record=rejected.raw,
                                   received_at=rejected.received_at.isoformat()):
                self._accepted(rejected)
            self._progressed()

    def _accepted(self, rejected: RejectedRecord) -> None:
        self.dry_run.accepted += 1
        if len(self.dry_run.accepted_examples) < EXAMPLES:
            self.dry_run.accepted_examples.append({
                "id": str(rejected.id), "schemaVersion": rejected.schema_version,
                "rejectedFor": rejected.errors})

    def _progressed(self) -> None:
        self.dry_run.scanned += 1
        if self.dry_run.scanned % PROGRESS_EVERY == 0:
            self._save()

    def _save(self, *also: str) -> None:
        # an update, not a save: a dry run deleted meanwhile (see KEPT) is no error
        fields = ["scanned", "unreadable", "unreadable_examples", "accepted",
                  "accepted_examples", *also]
        SchemaDryRun.objects.filter(id=self.dry_run.id).update(
            **{name: getattr(self.dry_run, name) for name in fields})

    def finish(self, status: str, error: str = "") -> None:
        self.dry_run.status, self.dry_run.error = status, error
        self.dry_run.finished_at = timezone.now()
        self._save("status", "error", "finished_at")
