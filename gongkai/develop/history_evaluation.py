"""The evaluation service's part of a generated history (E1–E6, S1–S3): the county's calendar
each January; monthly and bimonthly ratings; each half year a public round on every
township's branches (web ballots invited and cast with their codes, as the demo's; paper
ballots; not everyone turns out) and a round on every
branch's members, closed and published; and in June each township's selection of excellent
members over the twelve months before it opens (last year's second round, this year's
first), from nomination through stages the township committee decides with its reasons to the
commendation it issues on June 30; in July the county's selection from the townships'
winners, commended on July 10; in autumn the satisfaction checks of
the items reported done, answered by the people each item served and closed."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from gongkai.develop.demo import COUNTY
from gongkai.develop.demo_evaluation import (
    APPRAISAL,
    SCORES,
    WEB_GRADES,
    ballot_forms,
    vote_taken,
)
from gongkai.develop.history_calls import Branch, Caller, Township
from gongkai.develop.history_pledge import person_name

PUBLIC_RATERS = 6  # per township round: five on the web (one stays away), one on paper
SERVED = ("satisfied", "satisfied", "mostly_satisfied")  # the people an item served, asked
ADVANCED = "经镇党委研究，承诺践诺实绩突出，群众评议认可，同意进入下一轮"
NOT_ADVANCED = "经镇党委研究，本年度实绩与其他候选人相比尚有差距，暂不进入下一轮"
COUNTY_WORDS = (
    "经县委研究，在全县各镇推选的优秀共产党员中事迹突出，同意表彰",
    "经县委研究，事迹较好，此次暂不列入县级表彰",
)
FORMULA = {
    "weights": {"ratings": 0.3, "evaluation": 0.3, "pledges": 0.2, "reviews": 0.2},
    "when_missing": "reweight",
}


class EvaluationHistory(Caller):
    async def calendar(self, year: int) -> None:
        await self.post(
            f"/v1/counties/{COUNTY[0]}/evaluation-calendars",
            {
                "year": year,
                "first_round_closes": f"{year}-07-10",
                "second_round_closes": f"{year + 1}-01-05",
            },
            self.auth("county_admin", COUNTY[0]),
        )

    async def ratings(self, day: date, county: list[Township], rng: random.Random) -> None:
        """Each branch rates its members every month, the township its branches every two."""
        for township in county:
            for b in township.branches:
                await self._rating(
                    {"level": "branch_rates_members", "branch_id": b.branch_id},
                    f"{day:%Y-%m}",
                    [m.member_id for m in b.members],
                    self.auth("branch_secretary", b.branch_id, b.secretary.member_id),
                    rng,
                )
            if day.month % 2 == 0:
                await self._rating(
                    {"level": "township_rates_branches", "township_id": township.township_id},
                    f"{day.year}-B{day.month // 2}",
                    [b.branch_id for b in township.branches],
                    self.auth("township_committee", township.township_id),
                    rng,
                )

    async def _rating(
        self,
        level: dict[str, str],
        period: str,
        subjects: list[str],
        who: dict[str, str],
        rng: random.Random,
    ) -> None:
        results = []
        for subject in subjects:
            grade = rng.choice(APPRAISAL)
            results.append({"subject_id": subject, "grade": grade, "score": SCORES[grade]})
        await self.post("/v1/ratings", {**level, "period": period, "results": results}, who)

    async def rounds(
        self, year: int, half: int, day: date, county: list[Township], rng: random.Random
    ) -> list[tuple[str, dict[str, str]]]:
        """Open and vote every round of the half; the rounds and who closes each."""
        opened = []
        for township in county:
            opened.append(await self._township_round(year, half, day, township, rng))
            for b in township.branches:
                opened.append(await self._branch_round(year, half, day, b, rng))
        return opened

    async def close(self, opened: list[tuple[str, dict[str, str]]]) -> None:
        for round_id, organiser in opened:
            await self.post(f"/v1/rounds/{round_id}/closure", None, organiser)

    async def _township_round(
        self, year: int, half: int, day: date, township: Township, rng: random.Random
    ) -> tuple[str, dict[str, str]]:
        office = self.auth("township_office", township.township_id)
        title = f"{year}年{'上' if half == 1 else '下'}半年{township.name}群众评议基层党组织"
        body = {
            "title": title,
            "year": year,
            "half": half,
            "township_id": township.township_id,
            "opens_on": str(day),
        }
        round_id = (await self.post("/v1/rounds", body, office))["id"]
        team = [(b, m) for b in township.branches for m in b.members if m.leadership_team]
        entries: list[dict[str, Any]] = [
            {"kind": "township_member", "member_id": m.member_id} for _, m in team
        ]
        entries += [{"kind": "public", "organisation_id": "public"}] * PUBLIC_RATERS
        path = f"/v1/rounds/{round_id}"
        raters = (await self.post(f"{path}/raters", {"raters": entries}, office))["rater_ids"]
        subjects = [b.branch_id for b in township.branches]

        def grades() -> dict[str, str]:
            return {s: rng.choice(WEB_GRADES) for s in subjects}

        public = raters[len(team) :]
        # on the web, invited: the team and the public but the last two (one on paper, one
        # stays away)
        await self.voted_with_codes(
            path, {rater_id: grades() for rater_id in raters[: len(team)] + public[:-2]}, office
        )
        paper = {"channel": "paper", "participants": public[-2:-1], "ballots": [grades()]}
        await self.post(f"{path}/paper-ballots", paper, office)
        return round_id, office

    async def voted_with_codes(
        self, target: str, ballots: dict[str, dict[str, str]], organiser: dict[str, str]
    ) -> None:
        """Web ballots as the demo casts them (demo_evaluation's `ballot_forms`): the
        organiser invites the raters, each votes on the public voting page with their code,
        so a round's or check's turnout counts every web vote."""
        issued = await self.post(f"{target}/invitations", {"rater_ids": list(ballots)}, organiser)
        for form in ballot_forms(target, issued, ballots):
            vote_taken(target, await self.http.post("/vote/ballot", data=form))
            self.advance()

    async def _branch_round(
        self, year: int, half: int, day: date, b: Branch, rng: random.Random
    ) -> tuple[str, dict[str, str]]:
        secretary = self.auth("branch_secretary", b.branch_id, b.secretary.member_id)
        body = {
            "title": f"{year}年{'上' if half == 1 else '下'}半年{b.name}民主评议党员",
            "year": year,
            "half": half,
            "branch_id": b.branch_id,
            "opens_on": str(day),
        }
        round_id = (await self.post("/v1/rounds", body, secretary))["id"]
        entries = [{"kind": "branch_member", "member_id": m.member_id} for m in b.members]
        path = f"/v1/rounds/{round_id}"
        raters = (await self.post(f"{path}/raters", {"raters": entries}, secretary))["rater_ids"]
        ballots = {r: {m.member_id: rng.choice(APPRAISAL) for m in b.members} for r in raters}
        await self.voted_with_codes(path, ballots, secretary)
        return round_id, secretary

    async def selections(self, year: int, county: list[Township]) -> list[str]:
        """S1, S2: every township's office opens its selection of excellent members with a
        declared formula (its default window: the twelve months before); each branch nominates
        its two members; the office scores each of two stages and the committee decides it."""
        opened = []
        for township in county:
            office = self.auth("township_office", township.township_id)
            body = {
                "township_id": township.township_id,
                "year": year,
                "title": f"{year}年度{township.name}优秀共产党员评选",
                "subject_kind": "member",
            }
            selection = (await self.post("/v1/selections", body, office))["id"]
            nominees = 2 * len(township.branches)
            quotas = [max(1, nominees // 2), max(1, nominees // 4)]
            path = f"/v1/selections/{selection}"
            await self.post(f"{path}/formula", {**FORMULA, "quotas": quotas}, office)
            for b in township.branches:
                secretary = self.auth("branch_secretary", b.branch_id, b.secretary.member_id)
                for m in b.members[:2]:
                    nomination = {"subject_id": m.member_id, "reason": "践诺成效突出, 群众认可"}
                    await self.post(f"{path}/nominations", nomination, secretary)
            committee = self.auth("township_committee", township.township_id)
            for stage in range(1, len(quotas) + 1):
                await self.post(f"{path}/stages", None, office)
                await self.post(
                    f"{path}/stages/{stage}/decision", await self._decide(path), committee
                )
            opened.append(selection)
        return opened

    async def _decide(self, path: str, words: tuple[str, str] | None = None) -> dict[str, Any]:
        """The deciding body follows the score's suggestion here, and says why in its words."""
        advanced, not_advanced = words or (ADVANCED, NOT_ADVANCED)
        shown = (await self.get(path)).raise_for_status().json()
        latest = shown["stages"][-1]
        return {
            "decisions": [
                {
                    "subject_id": c["subject_id"],
                    "advanced": c["suggested"],
                    "reason": advanced if c["suggested"] else not_advanced,
                }
                for c in latest["candidates"]
            ]
        }

    async def notices(self, selections: list[str], county: list[Township]) -> None:
        for selection, township in zip(selections, county, strict=True):
            office = self.auth("township_office", township.township_id)
            await self.post(f"/v1/selections/{selection}/notice", None, office)

    async def commendations(self, selections: list[str], county: list[Township]) -> None:
        for selection, township in zip(selections, county, strict=True):
            committee = self.auth("township_committee", township.township_id)
            await self.post(f"/v1/selections/{selection}/commendation", None, committee)

    async def county_selection(self, year: int, county: list[Township]) -> str:
        """S1 at the county: in July the county selects its excellent members from the
        townships' winners of the year, each nominated by its township office; the county
        scores and decides (following the suggestion, with its reasons) and posts the
        notice."""
        admin = self.auth("county_admin", COUNTY[0])
        body = {
            "level": "county",
            "county_id": COUNTY[0],
            "year": year,
            "title": f"{year}年度{COUNTY[1]}优秀共产党员评选",
            "subject_kind": "member",
            "notice_days": 5,
            "commendation_on": f"{year}-07-15",
        }
        selection: str = (await self.post("/v1/selections", body, admin))["id"]
        path = f"/v1/selections/{selection}"
        quota = max(1, len(county) // 2)
        await self.post(f"{path}/formula", {**FORMULA, "quotas": [quota]}, admin)
        for township in county:
            office = self.auth("township_office", township.township_id)
            found = await self.get(f"/v1/commendations?township_id={township.township_id}")
            for commended in found.raise_for_status().json():
                if commended["year"] != year:
                    continue
                for awardee in commended["awardees"]:
                    nomination = {
                        "subject_id": awardee["subject_id"],
                        "reason": f"{township.name}优秀共产党员, {awardee['reason']}",
                    }
                    await self.post(f"{path}/nominations", nomination, office)
        await self.post(f"{path}/stages", None, admin)
        await self.post(f"{path}/stages/1/decision", await self._decide(path, COUNTY_WORDS), admin)
        await self.post(f"{path}/notice", None, admin)
        return selection

    async def county_commendation(self, selection: str) -> None:
        admin = self.auth("county_admin", COUNTY[0])
        await self.post(f"/v1/selections/{selection}/commendation", None, admin)

    async def checks_answered(self, done: dict[str, list[str]], rng: random.Random) -> None:
        """E8: the service opened a check for every item reported done (from the pledge
        service's events); the office registers the people it served, and they answer."""
        for township_id, items in done.items():
            office = self.auth("township_office", township_id)
            found = await self.get(f"/v1/satisfaction-checks?township_id={township_id}")
            check_of = {c["item_id"]: c["check_id"] for c in found.raise_for_status().json()}
            for item in items:
                check = f"/v1/satisfaction-checks/{check_of[item]}"
                people = {"raters": [{"name": person_name(rng)} for _ in SERVED]}
                raters = (await self.post(f"{check}/raters", people, office))["rater_ids"]
                answers = zip(raters, SERVED, strict=True)
                await self.voted_with_codes(check, {r: {"item": g} for r, g in answers}, office)

    async def checks_closed(self, county: list[Township]) -> None:
        """Their window over, each township closes its checks: the verdicts go to the pledge
        service, which closes the items the public is satisfied with."""
        for township in county:
            office = self.auth("township_office", township.township_id)
            path = f"/v1/townships/{township.township_id}/satisfaction-checks/closures"
            await self.post(path, None, office)
