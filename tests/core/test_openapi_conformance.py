"""Schemathesis, over the OpenAPI document the server itself serves, with every check it has
(bounded to a few examples an operation): each operation answers only the statuses, content
types, headers and bodies the document declares, refuses what the document says is invalid,
and never answers a 5xx. Two checks are left out where Sluice is right not to pass them:
- positive_data_acceptance everywhere: a schema-valid record may still break its collection's
  Avro schema, or name an object that does not exist; those are 400s naming the field;
- negative_data_rejection at Segment's door, which answers 200 for messages it keeps as
  rejected records, as Segment does, so that its libraries do not drop a whole batch."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import create_collection, create_identifier, create_source

BIN = Path(sys.executable).parent
SEGMENT_DOOR = "^/v1/[a-z]+$"
CONFIG = """
[parameters]
org = "{org}"
collection_id = "{collection}"
source_id = "{source}"
identifier_id = "{identifier}"

[auth.openapi.ApiKeyHeader]
api_key = "{key}"

[auth.openapi.ApiKeyAuthorization]
api_key = "ApiKey {key}"

[auth.openapi.SegmentBasic]
username = "{key}"
password = ""
"""
RUNS = {
    "every door but Segment's": ["--exclude-path-regex", SEGMENT_DOOR,
                                 "--exclude-checks", "positive_data_acceptance"],
    "Segment's door": ["--include-path-regex", SEGMENT_DOOR, "--exclude-checks",
                       "positive_data_acceptance,negative_data_rejection"],
}


@pytest.mark.parametrize("run", RUNS)
def test_every_operation_answers_as_documented(api, worker, tmp_path, run):
    source = create_source(api)
    collection = create_collection(api, source["id"])
    identifier = create_identifier(api, collection["id"])
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(org=api.org.slug, collection=collection["id"],
                                    source=source["id"], identifier=identifier["id"],
                                    key=api.org.secret_key))
    answer = subprocess.run(
        [str(BIN / "st"), "--config-file", str(config), "run", f"{api.root}/v1/schema",
         "--checks", "all", *RUNS[run], "--max-examples", "5", "--seed", "1",
         "--workers", "2", "--phases", "examples,coverage,fuzzing", "--no-shrink",
         "--output-truncate", "false"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert answer.returncode == 0, answer.stdout[-30000:]
