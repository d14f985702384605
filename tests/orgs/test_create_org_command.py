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
