from shared.testing import Servers
from tests.e2e.conftest import RunningService
from tests.e2e.helpers import Directory


async def test_probe(servers: Servers, pledge_service: RunningService) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    pool = pledge_service.runtime.pool
    async def show(label, r):
        n = await pool.fetchval("SELECT count(*) FROM events")
        print(label, r.status_code, r.headers.get("content-type"), r.text[:300], "events", n)
    admin = d.as_("county_admin", d.county)
    await show("notjson", await c.post(f"/v1/counties/{d.county}/townships", content=b"not json", headers={**admin, "content-type": "application/json"}))
    await show("notjson-noct", await c.post(f"/v1/counties/{d.county}/townships", content=b"not json", headers=admin))
    await show("textplain", await c.post(f"/v1/counties/{d.county}/townships", content=b'{"name":"x"}', headers={**admin, "content-type": "text/plain"}))
    await show("nobody", await c.post(f"/v1/counties/{d.county}/townships", headers=admin))
    await show("badutf8", await c.post(f"/v1/counties/{d.county}/townships", content=b'{"name":"\xff\xfe"}', headers={**admin, "content-type": "application/json"}))
    await show("array", await c.post(f"/v1/counties/{d.county}/townships", json=[1], headers=admin))
    await show("nul-name", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "a\u0000b"}, headers=admin))
    await show("nul-path", await c.post("/v1/branches/a%00b/retirement", json={"reason": "x"}, headers=d.office))
    await show("nul-item", await c.post("/v1/pledges/p%00/items/x/done", json={"summary": "x"}, headers=d.office))
    await show("idem-long", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"}, headers={**admin, "Idempotency-Key": "k"*201}))
    await show("extra", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x", "foo": 1}, headers=admin))
    await show("nan", await c.post(f"/v1/counties/{d.county}/calendars", content=b'{"year": NaN, "drafting_deadline": "2027-03-01"}', headers={**admin, "content-type": "application/json"}))
    await show("bigyear", await c.post(f"/v1/counties/{d.county}/calendars", json={"year": 10**40, "drafting_deadline": "2027-03-01"}, headers=admin))
    await show("bool-year", await c.post(f"/v1/counties/{d.county}/calendars", json={"year": True, "drafting_deadline": "2027-03-01"}, headers=admin))
    await show("big-body", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"*1_100_000}, headers=admin))
    await show("public-token", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"}, headers=d.as_("public")))
    await show("role-unknown", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"}, headers=d.as_("emperor", d.county)))
    await show("nul-county", await c.post("/v1/counties", json={"county_id": "ab", "name": "a\u0000"}, headers=d.as_("county_admin", "ab")))
    await show("nul-member", await c.post("/v1/members", json={"branch_id": d.branch, "name": "a\u0000", "post": "p", "duties": "d"}, headers=d.office))
    await show("nul-head", await c.post(f"/v1/townships/{d.township}/head", json={"person_id": "a\u0000", "name": "n"}, headers=admin))
    await show("nul-draft", await c.post("/v1/pledges", json={"year": 2027, "branch_id": "a\u0000"}, headers=d.branch_secretary))
    await show("long-path", await c.post(f"/v1/branches/{'x'*5000}/retirement", json={"reason": "x"}, headers=d.office))
    await show("nul-subject", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"}, headers=d.as_("county_admin", d.county, "a\u0000b")))
    await show("nul-idem", await c.post(f"/v1/counties/{d.county}/townships", json={"name": "x"}, headers={**admin, "Idempotency-Key": "a\x00b"}))
    await show("date-weird", await c.post(f"/v1/counties/{d.county}/calendars", json={"year": 2027, "drafting_deadline": 1700000000}, headers=admin))
    await show("cats-dupe", await c.post(f"/v1/counties/{d.county}/categories", json={"kind": "village", "categories": ["a", "a"]}, headers=admin))
    await show("cats-ws-dupe", await c.post(f"/v1/counties/{d.county}/categories", json={"kind": "village", "categories": ["a", " a "]}, headers=admin))
    await show("move-other-county", await c.post(f"/v1/branches/{d.branch}/move", json={"township_id": "nope"}, headers=admin))
    await show("draft-ghost-member", await c.post("/v1/pledges", json={"year": 2027, "branch_id": d.branch, "member_id": "ghost"}, headers=d.as_("member", d.branch, "ghost")))
    await show("draft-empty-member", await c.post("/v1/pledges", json={"year": 2027, "branch_id": d.branch, "member_id": ""}, headers=d.branch_secretary))
