import json
import subprocess
import sys

import httpx

from tests.live import ROOT, process_env


def create_org(database_url, *args):
    return subprocess.run([sys.executable, "manage.py", "create_org", *args], cwd=ROOT,
                          env=process_env(database_url), capture_output=True, text=True)


def test_create_org_prints_two_working_keys_once(database_url, server_url):
    made = create_org(database_url, "CmdOrg", "--name", "Command org", "--json")
    assert made.returncode == 0, made.stderr
    keys = json.loads(made.stdout)
    assert set(keys) == {"org", "secretKey", "writeKey"} and keys["org"] == "CmdOrg"
    base = f"{server_url}/v1/CmdOrg"
    assert httpx.get(f"{base}/sources", headers={
        "Authorization": f"ApiKey {keys['secretKey']}"}).status_code == 200
    assert httpx.get(f"{base}/sources", headers={
        "x-api-key": keys["writeKey"]}).status_code == 403

    again = create_org(database_url, "CmdOrg")
    assert again.returncode != 0
    assert "Org 'CmdOrg' exists already. Choose another slug." in again.stderr
    quiet = create_org(database_url, "CmdOrg", "--if-missing")
    assert quiet.returncode == 0 and "exists already" in quiet.stdout


def new_key(database_url, *args):
    return subprocess.run([sys.executable, "manage.py", "new_key", *args], cwd=ROOT,
                          env=process_env(database_url), capture_output=True, text=True)


def test_a_lost_key_is_replaced_and_the_old_one_revoked(database_url, server_url):
    made = json.loads(create_org(database_url, "KeyOrg", "--json").stdout)
    sources = f"{server_url}/v1/KeyOrg/sources"

    def answers(key):
        return httpx.get(sources, headers={"x-api-key": key}).status_code

    kept = json.loads(new_key(database_url, "KeyOrg", "--json").stdout)
    assert (kept["kind"], kept["revoked"], answers(kept["key"]), answers(made["secretKey"])) == (
        "secret", [], 200, 200)
    replaced = json.loads(new_key(database_url, "KeyOrg", "--revoke-old", "--json").stdout)
    assert len(replaced["revoked"]) == 2
    assert [answers(key) for key in (replaced["key"], kept["key"], made["secretKey"])] == [
        200, 401, 401]
    assert answers(made["writeKey"]) == 403  # a write key is of another kind: it still works
    missing = new_key(database_url, "NoSuchOrg")
    assert missing.returncode != 0 and "There is no org 'NoSuchOrg'" in missing.stderr


def test_the_names_sluice_serves_under_v1_are_refused_as_slugs(database_url):
    refused = create_org(database_url, "track")
    assert refused.returncode == 1
    assert "'track' is reserved: Sluice serves /v1/track itself. Choose another slug." in (
        refused.stderr)


def test_every_name_at_the_root_of_v1_is_reserved():
    from django.urls import get_resolver

    from apps.orgs.models import RESERVED_SLUGS

    served = set()
    for pattern in get_resolver().url_patterns:
        route = str(pattern.pattern)
        if route == "v1/":
            served |= {str(p.pattern) for p in pattern.url_patterns}
        elif route.startswith("v1/") and "<" not in route:
            served.add(route.removeprefix("v1/"))
    assert served and served <= RESERVED_SLUGS


def test_new_key_makes_read_keys_and_write_keys_of_one_source(database_url, server_url):
    made = json.loads(create_org(database_url, "KindsOrg", "--json").stdout)
    base = f"{server_url}/v1/KindsOrg"
    read = json.loads(new_key(database_url, "KindsOrg", "--kind", "read", "--json").stdout)
    assert read["key"].startswith("sluice_rk_")
    assert httpx.get(f"{base}/sources", headers={"x-api-key": read["key"]}).status_code == 200
    assert httpx.post(f"{base}/sources", headers={"x-api-key": read["key"]},
                      json={"name": "x", "type": "server"}).status_code == 403
    scoped = json.loads(new_key(database_url, "KindsOrg", "--kind", "write", "--source",
                                "builtin", "--json").stdout)
    listed = httpx.get(f"{base}/keys", headers={"x-api-key": made["secretKey"]}).json()
    [key] = [k for k in listed["_embedded"]["keys"] if k["prefix"] == scoped["key"][:14]]
    assert key["scope"]["sourceName"] == "builtin"
    refused = new_key(database_url, "KindsOrg", "--kind", "read", "--source", "builtin")
    assert refused.returncode != 0 and "Only a write key is scoped to a source" in refused.stderr
    missing = new_key(database_url, "KindsOrg", "--kind", "write", "--source", "nowhere")
    assert missing.returncode != 0 and "has no source 'nowhere'" in missing.stderr
