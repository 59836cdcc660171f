"""S3 on the public board (N1): a selection's finalists are posted for the notice period by
name, an upheld objection takes its finalist off, what an objection says never shows, and
the commendation replaces the notice. The selection events are the evaluation service's own
classes, published as it publishes them; the read models rebuild to the same rows."""

from __future__ import annotations

from datetime import date

from services.evaluation.rounds.events import SubjectKind
from services.evaluation.selection.events import (
    Awardee,
    CandidateNominated,
    CommendationIssued,
    NoticePosted,
    ObjectionAnswered,
    ObjectionFiled,
    SelectionOpened,
)
from services.notification.app import DEFINITION
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import ServiceStandIn, pledge_and_notification
from tests.support import Servers, rebuilt_as_live

TITLE = "2027年度优秀共产党员评选"
SECRET_OBJECTION = "据反映该同志有违规收受礼品问题"


async def test_the_notice_names_the_standing_finalists_until_the_commendation(
    servers: Servers,
) -> None:
    async with pledge_and_notification(servers) as (pledge, notification):
        d = await Directory(pledge.client, servers).build()
        board = notification.client
        evaluation = ServiceStandIn("evaluation", servers.nats.url, notification.subjects)
        stream = "selection-s1"

        async def publish(event: object) -> None:
            await evaluation.publish(stream, d.township, event)  # type: ignore[arg-type]

        await publish(
            SelectionOpened(
                selection_id="s1",
                township_id=d.township,
                year=2027,
                title=TITLE,
                subject_kind=SubjectKind.MEMBER,
                notice_days=7,
                commendation_on=date(2027, 7, 1),
            )
        )
        for subject, name in (("m-a", "张桂兰"), ("m-b", "赵永福"), ("m-c", "未入围者")):
            await publish(
                CandidateNominated(
                    selection_id="s1",
                    subject_id=subject,
                    subject_name=name,
                    branch_id=d.branch,
                    nominated_by="branch",
                    reason="带头节水",
                )
            )
        await publish(
            NoticePosted(
                selection_id="s1",
                posted_on=date(2027, 6, 20),
                notice_until=date(2027, 6, 27),
                finalists=("m-a", "m-b"),
            )
        )
        await publish(
            ObjectionFiled(
                selection_id="s1", objection_id="o1", subject_id="m-b", summary=SECRET_OBJECTION
            )
        )

        async def township_page() -> str:
            response = await board.get(f"/townships/{d.township}")
            assert response.status_code == 200
            return response.text

        async def objection_arrived() -> bool:
            return "1 件异议正在核查" in await township_page()

        await eventually(objection_arrived)
        page = await township_page()
        assert TITLE in page
        assert "公示期：2027年6月20日至2027年6月27日" in page
        assert "张桂兰" in page
        assert "赵永福" in page
        assert "未入围者" not in page  # nominated, not a finalist
        assert SECRET_OBJECTION not in page

        await publish(
            ObjectionAnswered(
                selection_id="s1", objection_id="o1", answer="经核实属实", upheld=True
            )
        )

        async def taken_off() -> bool:
            return "赵永福" not in await township_page()

        await eventually(taken_off)
        page = await township_page()
        assert "张桂兰" in page
        assert "异议正在核查" not in page

        releases = ok(await board.get("/v1/releases?type=selection_notice"))["releases"]
        assert [r["subject"] for r in releases] == [TITLE]
        assert releases[0]["content"]["finalist_names"] == ["张桂兰", "赵永福"]
        assert SECRET_OBJECTION not in str(releases)

        await publish(
            CommendationIssued(
                selection_id="s1",
                township_id=d.township,
                year=2027,
                title=TITLE,
                issued_on=date(2027, 7, 1),
                awardees=(
                    Awardee(
                        subject_kind=SubjectKind.MEMBER,
                        subject_id="m-a",
                        subject_name="张桂兰",
                        branch_id=d.branch,
                        reason="带头节水",
                        nomination_reason="节水灌溉示范岗",
                    ),
                ),
            )
        )

        async def commended() -> bool:
            return "评选公示" not in await township_page()

        await eventually(commended)
        assert "张桂兰" in await township_page()  # now under the commendations

        runtime = notification.runtime
        live = await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
        assert live["board_notices"].startswith("1:")
