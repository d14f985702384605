"""An org's own limits are set on its admin page, and blank gives it the settings' back."""

from apps.core.ratelimits import policies
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import org_create
from tests.fixtures import ACTOR


def test_the_org_page_sets_the_orgs_own_limits(admin_client, db, settings):
    created = org_create(actor=ACTOR, slug="LimitedOrg")
    form = {"slug": "LimitedOrg", "name": "Limited", "compatibility": "BACKWARD",
            "rate_limit_key": "7", "rate_limit_key_burst": "14", "rate_limit_org": "",
            "rate_limit_org_burst": "", "rejected_cap": "1000"}
    page = admin_client.get(f"/admin/orgs/org/{created.org.pk}/change/").content.decode()
    assert "Limits" in page and "rejected_cap" in page
    assert admin_client.post(f"/admin/orgs/org/{created.org.pk}/change/", form).status_code == 302

    org = Org.objects.get(pk=created.org.pk)
    assert (org.rate_limit_key, org.rate_limit_key_burst, org.rate_limit_org,
            org.rejected_cap) == (7, 14, None, 1000)
    key = ApiKey.objects.filter(org=org).first()
    assert key is not None
    assert [(p.name, p.rate, p.burst) for p in policies(key)] == [
        ("key", 7, 14), ("org", settings.RATE_LIMIT_ORG, settings.RATE_LIMIT_ORG_BURST)]
