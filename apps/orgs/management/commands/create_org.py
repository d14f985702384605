import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.actors import Actor
from apps.orgs.models import Org
from apps.orgs.services import org_create


class Command(BaseCommand):
    help = "Create an org with one secret key and one write key, and print the keys once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the org's slug, as it appears in URLs (/v1/<slug>/)")
        parser.add_argument("--name", default="", help="a display name")
        parser.add_argument("--json", action="store_true", help="print {org, secretKey, writeKey}")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when the org already exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"]
        if Org.objects.filter(slug=slug).exists():
            if options["if_missing"]:
                self.stdout.write(f"Org {slug} exists already; its keys were shown when it "
                                  "was made.")
                return
            raise CommandError(f"Org {slug!r} exists already. Choose another slug.")
        try:
            created = org_create(actor=Actor.system("manage.py create_org"), slug=slug,
                                 name=options["name"])
        except ValidationError as error:
            raise CommandError(f"Cannot create org {slug!r}: {error.messages}") from error
        if options["json"]:
            body = {"org": slug, "secretKey": created.secret_key, "writeKey": created.write_key}
            self.stdout.write(json.dumps(body))
            return
        self.stdout.write(f"Created org {slug}. These keys are shown once; keep them now.")
        self.stdout.write(f"  secret key (manages the org): {created.secret_key}")
        self.stdout.write(
            f"  write key (only sends records; safe in a web page): {created.write_key}"
        )
