"""A stage's evidence shows the formula's parts only (issue 20 item 2, second review): the
service records what the records say of every source, but a source the formula does not
weigh counts for nothing, so the page lists each candidate's parts the formula weighs, each
with its weight, in the order the formula's form lists them; which months the demo rates
(the last that have ended, so its selection's window holds them). The demo's selection as
its office reads it, against the real services: tests/e2e/test_console_selscore.py."""

from __future__ import annotations

import re
from datetime import date, timedelta

from gongkai.develop.demo_evaluation import ended
from services.evaluation.selection.aggregates import default_window, period_end, within
from services.evaluation.selection.events import Window
from tests.unit.test_console_selectlevels import page
from tests.unit.test_console_selectpages import a_selection

EVERY_SOURCE = [
    {"source": "ratings", "value": None, "evidence": []},
    {"source": "evaluation", "value": 82.5, "evidence": ["rd-1"]},
    {"source": "pledges", "value": 50.0, "evidence": ["p-1", "i-1"]},
    {"source": "reviews", "value": 92.5, "evidence": ["r-1"]},
]


def parts(html: str) -> list[str]:
    """Each candidate's parts as the page lists them."""
    return re.findall(r'<div class="muted parts">([^<]*)</div>', html)


def test_the_parts_shown_are_the_formulas_each_with_its_weight() -> None:
    selection = a_selection()
    # the formula as JSONB gives it back (its keys reordered): 40/20/40, no pledges
    selection["formula"]["weights"] = {"reviews": 0.2, "ratings": 0.4, "evaluation": 0.4}
    for c in selection["stages"][0]["candidates"]:
        c["inputs"] = EVERY_SOURCE
    html = page("township_committee", "t-1", selection)
    expected = "评星定级：无数据（占40%）；群众评议：82.50（占40%）；领导点评：92.50（占20%）"
    assert parts(html) == [expected, expected]
    assert "承诺践诺" not in html  # not in the formula: not evidence
    assert "评选办法：评星定级 40%，群众评议 40%，领导点评 20%；" in html


def test_a_part_with_no_record_is_shown_as_such_and_one_not_weighed_is_not() -> None:
    selection = a_selection()  # reviews and ratings, half each; the second has no ratings input
    html = page("township_office", "t-1", selection)
    assert parts(html) == [
        "评星定级：无数据（占50%）；领导点评：92.50（占50%）",
        "评星定级：无数据（占50%）；领导点评：61.00（占50%）",
    ]
    selection["formula"]["weights"] = {"reviews": 1.0, "ratings": 0.0}  # weighed 0: not one
    html = page("township_office", "t-1", selection)
    assert parts(html) == ["领导点评：92.50（占100%）", "领导点评：61.00（占100%）"]


def test_the_demo_rates_the_periods_that_have_ended() -> None:
    assert ended(date(2026, 12, 8)) == ("2026-11", "2026-B5")
    assert ended(date(2027, 1, 3)) == ("2026-12", "2026-B6")
    assert ended(date(2027, 2, 28)) == ("2027-01", "2026-B6")
    assert ended(date(2027, 3, 1)) == ("2027-02", "2027-B1")
    for day in (date(2026, 12, 8), date(2027, 1, 1), date(2027, 7, 31)):
        # the demo's window (the year to today) and the default one of a selection opened
        # the day after both hold them
        demos = Window(starts_on=day - timedelta(days=364), ends_on=day)
        for window in (demos, default_window(day + timedelta(days=1))):
            assert all(within(window, period_end(p)) for p in ended(day)), (day, window)
