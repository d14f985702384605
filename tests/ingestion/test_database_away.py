"""The database away from the worker: records answered 202 meanwhile wait in Redis, and are
stored, each once, when it is back."""

import os
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.db import connection

from apps.records.models import Record
from tests.conftest import LOGS
from tests.helpers import flight_collection, stored_keys, wait_for

WORKER_LOG = LOGS / "database-away-worker.log"


def lock_out(role: str) -> None:
    """The role may not log in, and its sessions end: the database is away for it."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE {role} NOLOGIN")
        cursor.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                       "WHERE usename = %s", [role])


def let_in(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE {role} LOGIN")


@pytest.fixture
def worker_role(orm: None) -> Iterator[str]:
    """A database role that only the worker logs in as: locking it out takes the database
    away from the worker alone."""
    role = f"sluice_worker_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role} LOGIN SUPERUSER")
    yield role
    lock_out(role)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE {role}")


def test_records_sent_while_the_database_is_away_are_stored_once_it_is_back(
        api, worker_role, isolated_stack, database_url, orm):
    stack = isolated_stack
    address = urlsplit(database_url)
    WORKER_LOG.unlink(missing_ok=True)
    stack.start_worker(f"postgres://{worker_role}@{address.hostname}:{address.port}"
                       f"{address.path}", WORKER_LOG)
    coll_id = flight_collection(api)
    stored = Record.objects.filter(collection_id=coll_id)
    sent = stack.send_each(api, coll_id, 1)
    wait_for(stored.exists)  # the worker is up, and has stored with the database
    lock_out(worker_role)
    sent += stack.send_each(api, coll_id, 30)
    # a drain took them, and failed to store them
    wait_for(lambda: WORKER_LOG.read_text().count("batches failed") >= 3)
    assert stored.count() == 1
    let_in(worker_role)
    back = time.monotonic()

    assert stored_keys(coll_id, len(sent)) == sorted(sent)
    print(f"the database away from the worker: all stored {time.monotonic() - back:.1f} s "
          "after it was back")
