import time
import jwt
from shared.auth import LocalSigningKey
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
    await show("date-weird", await c.post(f"/v1/counties/{d.county}/calendars", json={"year": 2027, "drafting_deadline": 1700000000}, headers=admin))
    await show("cats-dupe", await c.post(f"/v1/counties/{d.county}/categories", json={"kind": "village", "categories": ["a", "a"]}, headers=admin))
    await show("cats-ws-dupe", await c.post(f"/v1/counties/{d.county}/categories", json={"kind": "village", "categories": ["a", " a "]}, headers=admin))
    await show("move-other-county", await c.post(f"/v1/branches/{d.branch}/move", json={"township_id": "nope"}, headers=admin))
    await show("draft-ghost-member", await c.post("/v1/pledges", json={"year": 2027, "branch_id": d.branch, "member_id": "ghost"}, headers=d.as_("member", d.branch, "ghost")))
    await show("draft-empty-member", await c.post("/v1/pledges", json={"year": 2027, "branch_id": d.branch, "member_id": ""}, headers=d.branch_secretary))

    now=int(time.time())
    base={"iss":"gongkai-local","aud":"gongkai","sub":"x","role":"county_admin","org":d.county,"iat":now,"exp":now+600}
    def tok(**kw):
        claims={**base, **kw}
        claims={k:v for k,v in claims.items() if v is not None}
        return {"Authorization": "Bearer "+jwt.encode(claims, servers.key._private, algorithm="EdDSA")}
    url=f"/v1/counties/{d.county}/townships"
    body={"name":"x"}
    await show("expired", await c.post(url, json=body, headers=tok(exp=now-10)))
    await show("wrongaud", await c.post(url, json=body, headers=tok(aud="other")))
    await show("wrongiss", await c.post(url, json=body, headers=tok(iss="other")))
    await show("noexp", await c.post(url, json=body, headers=tok(exp=None)))
    await show("norole", await c.post(url, json=body, headers=tok(role=None)))
    await show("nosub", await c.post(url, json=body, headers=tok(sub=None)))
    other=LocalSigningKey.generate()
    await show("wrongkey", await c.post(url, json=body, headers={"Authorization":"Bearer "+other.issue(issuer="gongkai-local",audience="gongkai",subject="x",role="county_admin",org=d.county)}))
    await show("none", await c.post(url, json=body, headers={"Authorization":"Bearer "+jwt.encode(base, None, algorithm="none")}))
    await show("hs256", await c.post(url, json=body, headers={"Authorization":"Bearer "+jwt.encode(base, servers.key.public_pem.decode()[:40], algorithm="HS256")}))
    await show("garbage", await c.post(url, json=body, headers={"Authorization":"Bearer not.a.jwt"}))
    await show("basic", await c.post(url, json=body, headers={"Authorization":"Basic dXNlcjpwYXNz"}))
    await show("bearer-empty", await c.post(url, json=body, headers={"Authorization":"Bearer "}))
    await show("bearer-only", await c.post(url, json=body, headers={"Authorization":"Bearer"}))
    await show("token-noscheme", await c.post(url, json=body, headers={"Authorization":tok()["Authorization"][7:]}))
    await show("invalid-json-mid", await c.post(url, content=b'{"name": }', headers={**admin, "content-type": "application/json"}))
    await show("nul-idem-escaped", await c.post(url, json=body, headers={**admin, "Idempotency-Key": "a\u0000b"}))
