"""Issue 19: a round's raters go in from a workbook (a GB18030 CSV as Chinese Excel saves
it), against real PostgreSQL and NATS: checked row by row, previewed by running the owning
command in a rolled-back savepoint (nothing appended), registered all or none on confirm,
sealed per person (A7: no phone number in the log, the file dropped once committed); the
same file again registers no one more. Then a stack of paper ballots with its sign-in sheet,
and a branch's monthly member ratings, from their templates, the same way."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.evaluation.rounds.events import RaterKind
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation
from tests.e2e.helpers import Directory, event_count, ok
from tests.support import Servers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = "姓名,手机号,身份证号,类别,党员编号,单位编号\r\n"


async def test_a_rounds_raters_go_in_from_a_workbook(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        opening = {"title": "2027年上半年群众评议", "year": 2027, "half": 1}
        opening |= {"township_id": d.township, "opens_on": "2027-03-01"}
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        template = await e.get(f"/v1/rounds/{round_id}/raters/template.xlsx", headers=d.office)
        assert template.status_code == 200
        assert template.content.startswith(b"PK")

        csv = HEADER + "王淑珍,13800000001,,群众,,\r\n刘大爷,13800000002,,群众,,\r\n"
        csv += f",,,乡镇党员,{d.member},\r\n"
        url = f"/v1/rounds/{round_id}/raters/imports?file_name=评议人.csv"
        headers = {**d.office, "Content-Type": "text/csv"}
        before = await event_count(evaluation)
        upload = ok(await e.post(url, content=csv.encode("gb18030"), headers=headers), 201)
        assert upload["state"] == "ready", upload["errors"]
        assert upload["preview"]["summary"] == {"RaterRegistered": 3}
        assert "王淑珍" not in str(upload["preview"])  # sealed: not even in the preview
        assert await event_count(evaluation) == before  # the dry run left nothing
        assert await evaluation.runtime.pool.fetchval("SELECT count(*) FROM person_keys") == 0

        confirm = f"/v1/imports/{upload['import_id']}/confirm"
        done = ok(await e.post(confirm, headers=d.office))
        assert (done["state"], done["appended"]) == ("committed", 3)
        assert await event_count(evaluation) == before + 3
        raters = ok(await e.get(f"/v1/rounds/{round_id}/raters", headers=d.office))
        kinds = sorted(r["rater_kind"] for r in raters["raters"])
        assert kinds == [RaterKind.PUBLIC, RaterKind.PUBLIC, RaterKind.TOWNSHIP_MEMBER]
        bodies = await evaluation.runtime.pool.fetch("SELECT body FROM events")
        assert not any(b"13800000001" in r["body"] for r in bodies)
        kept = "SELECT file FROM imports WHERE import_id = $1"
        assert await evaluation.runtime.pool.fetchval(kept, upload["import_id"]) is None
        # again: the same import, nothing more
        assert ok(await e.post(confirm, headers=d.office))["appended"] == 3
        again = ok(await e.post(url, content=csv.encode("gb18030"), headers=headers), 201)
        assert again["import_id"] == upload["import_id"]
        assert await event_count(evaluation) == before + 3

        # bad rows: a phone that is none, a kind not on the list, a member from elsewhere
        bad = HEADER + "张三,12ab,,群众,,\r\n李四,13800000003,,路人,,\r\n"
        invalid = ok(await e.post(url, content=bad.encode(), headers=headers), 201)
        assert [(x["row"], x["column"]) for x in invalid["errors"]] == [(2, "手机号"), (3, "类别")]
        refused = await e.post(f"/v1/imports/{invalid['import_id']}/confirm", headers=d.office)
        assert refused.status_code == 409
        stranger = HEADER + "王五,13800000004,,群众,,\r\n,,,乡镇党员,m-00000000,\r\n"
        unknown = ok(await e.post(url, content=stranger.encode(), headers=headers), 201)
        assert unknown["state"] == "invalid"
        assert [(x["row"], x["column"]) for x in unknown["errors"]] == [(3, "党员编号")]
        assert await event_count(evaluation) == before + 3

        # a stack of paper ballots from the round's own workbook: two signed in, two ballots
        stack = await e.get(f"/v1/rounds/{round_id}/ballots/template.xlsx", headers=d.office)
        assert stack.status_code == 200, stack.text
        book = load_workbook(io.BytesIO(stack.content))
        signed = list(book["签到表"].iter_rows(min_row=2))
        assert len(signed) == 3  # the three raters, none has voted
        for row in signed[:2]:
            row[2].value = "是"
        signed_ids = {row[0].value for row in signed[:2]}
        subjects = [c.value for c in book["选票"][1]]
        grade = book["选票"].data_validations.dataValidation[0].formula1.strip('"').split(",")[0]
        for _ in range(2):
            book["选票"].append([grade] * len(subjects))
        buffer = io.BytesIO()
        book.save(buffer)
        xlsx = {**d.office, "Content-Type": XLSX}
        ballots_url = f"/v1/rounds/{round_id}/ballots/imports?channel=paper"
        entered = ok(await e.post(ballots_url, content=buffer.getvalue(), headers=xlsx), 201)
        assert entered["state"] == "ready", entered["errors"]
        assert entered["preview"]["summary"]["ballots"] == 2
        before = await event_count(evaluation)
        done = ok(await e.post(f"/v1/imports/{entered['import_id']}/confirm", headers=d.office))
        assert done["state"] == "committed"
        assert await event_count(evaluation) == before + done["appended"] + 2  # + 2 ballots
        raters = ok(await e.get(f"/v1/rounds/{round_id}/raters", headers=d.office))["raters"]
        assert sum(r["voted"] for r in raters) == 2
        # the third rater signed in, but two ballots in the stack: nothing
        for row in list(book["签到表"].iter_rows(min_row=2)):
            row[2].value = "是" if row[0].value not in signed_ids else "否"
        buffer = io.BytesIO()
        book.save(buffer)
        after = await event_count(evaluation)
        short = ok(await e.post(ballots_url, content=buffer.getvalue(), headers=xlsx), 201)
        assert short["state"] == "invalid"
        assert "数量须相同" in short["errors"][0]["reason"]
        assert await event_count(evaluation) == after

        # a branch's monthly ratings of its members, from the template the secretary fills
        rating_url = f"/v1/branches/{d.branch}/ratings"
        sheet = await e.get(f"{rating_url}/template.xlsx", headers=d.branch_secretary)
        assert sheet.status_code == 200, sheet.text
        book = load_workbook(io.BytesIO(sheet.content))
        rows = list(book["评定结果"].iter_rows(min_row=2))
        assert {r[0].value for r in rows} == {d.member, d.secretary}
        for row, (grade, score) in zip(rows, [("优秀", 95), ("合格", "八十")], strict=True):
            row[2].value, row[3].value = grade, score
        buffer = io.BytesIO()
        book.save(buffer)
        secretary = {**d.branch_secretary, "Content-Type": XLSX}
        imports_url = f"{rating_url}/imports?period=2027-03"
        wrong = ok(await e.post(imports_url, content=buffer.getvalue(), headers=secretary), 201)
        assert [(x["row"], x["column"]) for x in wrong["errors"]] == [(3, "得分")]
        rows[1][3].value = 80
        buffer = io.BytesIO()
        book.save(buffer)
        rating = ok(await e.post(imports_url, content=buffer.getvalue(), headers=secretary), 201)
        assert rating["state"] == "ready", rating["errors"]
        before = await event_count(evaluation)
        confirm = f"/v1/imports/{rating['import_id']}/confirm"
        assert ok(await e.post(confirm, headers=d.branch_secretary))["appended"] == 1
        assert ok(await e.post(confirm, headers=d.branch_secretary))["appended"] == 1
        assert await event_count(evaluation) == before + 1
        published = ok(await e.get("/v1/ratings", params={"branch_id": d.branch}))["rows"]
        assert len(published) == 1
