import httpx
import pytest


@pytest.fixture
def v3(api, worker):
    """A client of the Fuzy-style API on the live server, with the org's secret key."""
    with httpx.Client(base_url=f"{api.root}/v3", timeout=30,
                      headers={"x-api-key": api.org.secret_key}) as client:
        client.org = api.org
        yield client
