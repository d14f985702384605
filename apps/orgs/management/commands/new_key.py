import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.exceptions import SluiceError
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_create, api_keys_revoke
from apps.sources.models import Source
from apps.sources.selectors import source_get


class Command(BaseCommand):
    help = ("Make a new key for an org (its keys were lost, or leaked) and print it once; "
            "with --revoke-old, the org's other keys of that kind stop working at once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the org's slug, as it appears in URLs (/v1/<slug>/)")
        parser.add_argument("--kind", choices=[kind.value for kind in ApiKey.Kind],
                            default=ApiKey.Kind.SECRET.value,
                            help="secret (manages the org; the default), read (reads and "
                            "exports) or write (only sends)")
        parser.add_argument("--source", help="a write key for this source alone (its id or "
                            "name): it sends only to that source's collections")
        parser.add_argument("--revoke-old", action="store_true",
                            help="revoke the org's other live keys of this kind (and source)")
        parser.add_argument("--json", action="store_true", help="print {org, kind, key, revoked}")

    def source_of(self, org: Org, ref: str | None) -> Source | None:
        if ref is None:
            return None
        source = source_get(org=org, source_id=ref)
        if source is None:
            raise CommandError(f"Org {org.slug} has no source {ref!r} (give its id or name).")
        return source

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(slug=options["slug"]).first()
        if org is None:
            raise CommandError(f"There is no org {options['slug']!r}. Its slug is the name in "
                               "its URLs (/v1/<slug>/); create one with create_org.")
        kind, actor = options["kind"], Actor.system("manage.py new_key")
        source = self.source_of(org, options["source"])
        try:
            key, raw = api_key_create(actor=actor, org=org, kind=kind, source=source,
                                      name=f"made by new_key {timezone.now():%Y-%m-%d %H:%M}")
        except SluiceError as error:
            raise CommandError(error.errors[0].detail) from error
        revoked = (api_keys_revoke(actor=actor, org=org, kind=kind, keep=key)
                   if options["revoke_old"] else [])
        if options["json"]:
            self.stdout.write(json.dumps({"org": org.slug, "kind": kind, "key": raw,
                                          "revoked": [old.prefix for old in revoked]}))
            return
        self.stdout.write(f"A new {kind} key of org {org.slug}. It is shown once; keep it now.")
        self.stdout.write(f"  {raw}")
        if revoked:
            self.stdout.write(f"Revoked {len(revoked)} older {kind} key(s): "
                              + ", ".join(f"{old.prefix}..." for old in revoked))
