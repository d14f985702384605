"""The shared fixture files (schemas, sample records) that tests, README and bench use."""

import json
from pathlib import Path
from typing import Any

from apps.core.actors import Actor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def schema(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "schemas" / f"{name}.avsc").read_text())  # type: ignore[no-any-return]


def record(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "records" / f"{name}.json").read_text())  # type: ignore[no-any-return]


ACTOR = Actor.system("tests")  # who the tests' own changes are recorded as made by
