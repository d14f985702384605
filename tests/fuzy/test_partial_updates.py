"""Products, accounts and users are updated field by field where records are stored, so that
concurrent updates of one all apply; the default product is there from the org's creation,
and the Fuzy API's reads write nothing."""

from concurrent.futures import ThreadPoolExecutor

from apps.catalog.models import Collection
from apps.records.models import Record
from apps.sources.models import Source
from tests.fuzy.helpers import stored
from tests.helpers import NOT_FOUND, hal_links, problem

DEFAULT_PRODUCT = {"productId": "default", "name": "Default product", "description": None,
                   "isDefault": True}


def test_200_concurrent_partial_updates_of_one_account_all_apply(api, v3, orm):
    assert v3.post("/account", json={"accountId": "busy", "name": "Busy"}).status_code == 202
    stored(api, "accounts", "busy")
    updates = [{"accountId": "busy", "traits": {f"trait{i}": i}} for i in range(196)] + [
        {"accountId": "busy", "name": "Busy Inc"},
        {"accountId": "busy", "parentAccountId": "holding"},
        {"accountId": "busy", "paymentProcessorIds": {"stripe": "cus_1"}},
        {"accountId": "busy", "paymentProcessorIds": {"chargebee": "cb_1"}},
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda update: v3.post("/account", json=update), updates))
    assert [answer.status_code for answer in answers] == [202] * 200
    expected = {"accountId": "busy", "name": "Busy Inc", "parentAccountId": "holding",
                "paymentProcessorIds": {"stripe": "cus_1", "chargebee": "cb_1"},
                "traits": {f"trait{i}": i for i in range(196)}}
    account = stored(api, "accounts", "busy", until=lambda r: r.data == expected, timeout=60)
    assert account.identifiers == {"accountId": "busy", "parentAccountId": "holding"}
    assert v3.get("/account/busy").json() == {**expected, "_links": hal_links(
        api.root, "/v3/account/busy", parentAccount="/v3/account/holding")}


def test_a_new_org_has_its_default_product_at_once(api, orm):
    product = Record.objects.get(collection__org__slug=api.org.slug,
                                 collection__name="products")
    assert (product.key, product.identifiers, product.data) == (
        "default", {"productId": "default"}, DEFAULT_PRODUCT)


def org_rows(slug):
    return (Record.objects.filter(collection__org__slug=slug).count(),
            Collection.objects.filter(org__slug=slug).count(),
            Source.objects.filter(org__slug=slug).count())


def test_reads_write_nothing(api, v3, orm):
    before = org_rows(api.org.slug)
    assert v3.get("/product").json() == {"products": [DEFAULT_PRODUCT],
                                         "_links": hal_links(api.root, "/v3/product")}
    assert v3.get("/product/default").json() == {
        **DEFAULT_PRODUCT, "_links": hal_links(api.root, "/v3/product/default")}
    assert org_rows(api.org.slug) == before
    # nor does a read put back a default product that was deleted
    Record.objects.filter(collection__org__slug=api.org.slug, key="default").delete()
    before = org_rows(api.org.slug)
    assert v3.get("/product").json()["products"] == []
    for path in ("/product/default", "/account/acme", "/user/u1"):
        answer = v3.get(path)
        assert (answer.status_code, answer.json()) == (404, problem(404, "not_found", NOT_FOUND))
    assert org_rows(api.org.slug) == before


def test_a_partial_update_is_validated_by_the_fields_it_names(api, v3, orm):
    answer = v3.post("/account", json=[{"accountId": "a1", "traits": "gold"},
                                       {"accountId": "a2", "name": "Two"}])
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "warnings": [], "rejected": [
        {"collection": "accounts", "index": 0, "errors": [
            {"attr": "traits", "code": "invalid_type",
             "detail": "Expected map at traits, got str."}]}],
        "_links": hal_links(api.root, "/v3/account",
                            rejected=f"/v1/{api.org.slug}/rejected")}
    # a field the schema requires (a product's name) may be left out once the product exists
    new = v3.post("/product", json={"productId": "tv", "description": "TV app"})
    assert new.json()["rejected"] == [{"collection": "products", "index": 0, "errors": [
        {"attr": "name", "code": "required", "detail": "The field 'name' is required (string)."}]}]
    assert v3.put("/product/default", json={"description": "Our web app"}).json() == {
        "accepted": 1, "rejected": [], "warnings": [],
        "_links": hal_links(api.root, "/v3/product/default")}
    assert v3.post("/product", json=[{"productId": "tv", "name": "TV"},
                                     {"productId": "tv", "description": "TV app"}]
                   ).json()["accepted"] == 2
    tv = stored(api, "products", "tv")
    assert tv.data == {"productId": "tv", "name": "TV", "description": "TV app",
                       "isDefault": False}
    default = stored(api, "products", "default",
                     until=lambda r: r.data["description"] == "Our web app")
    assert default.data == {**DEFAULT_PRODUCT, "description": "Our web app"}


def test_identifiers_follow_the_merged_record(api, v3, orm):
    v3.post("/user", json={"userId": "u1", "accountId": "acme", "email": "ann@acme.example"})
    stored(api, "users", "u1")
    v3.put("/event", json={"description": "renamed", "timestamp": "2024-03-01T10:00:00Z",
                           "user": {"userId": "u1", "firstName": "Ann"}})
    user = stored(api, "users", "u1", until=lambda r: r.data["firstName"] == "Ann")
    assert (user.data["email"], user.identifiers) == (
        "ann@acme.example", {"userId": "u1", "accountId": "acme"})
    v3.post("/user", json={"userId": "u1", "accountId": None})
    user = stored(api, "users", "u1", until=lambda r: r.data["accountId"] is None)
    assert (user.data["firstName"], user.identifiers) == ("Ann", {"userId": "u1"})


def test_a_read_sent_back_as_it_is_is_taken_with_a_warning_about_its_links(api, v3, orm):
    read = v3.get("/product/default").json()
    answer = v3.put("/product/default", json=read)
    assert (answer.status_code, answer.json()) == (202, {
        "accepted": 1, "rejected": [], "warnings": [
            {"collection": "products", "index": 0, "fields": ["_links"],
             "detail": "Fields not in the schema were not stored: _links."}],
        "_links": hal_links(api.root, "/v3/product/default")})
