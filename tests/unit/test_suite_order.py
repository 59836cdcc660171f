"""The order the suite's files are handed to the two workers in (tests/conftest.py): the
longest named files first, each file's tests together and in their own order."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from tests.conftest import LONGEST_FIRST, pytest_collection_modifyitems

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_named_longest_first_is_there_once() -> None:
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    missing = [path for path in LONGEST_FIRST if not (ROOT / path).is_file()]
    assert missing == [], "renamed or gone: update LONGEST_FIRST in tests/conftest.py"


class Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_the_longest_files_first_then_the_files_with_most_tests() -> None:
    nodeids = [
        "tests/unit/test_a.py::test_one",
        "tests/unit/test_b.py::test_one",
        "tests/unit/test_b.py::test_two",
        f"{LONGEST_FIRST[1]}::test_one",
        f"{LONGEST_FIRST[0]}::test_one",
        f"{LONGEST_FIRST[0]}::test_two",
        "tests/unit/test_c.py::test_one",
    ]
    items = [Item(n) for n in nodeids]
    pytest_collection_modifyitems(cast(list[pytest.Item], items))
    assert [i.nodeid for i in items] == [
        f"{LONGEST_FIRST[0]}::test_one",
        f"{LONGEST_FIRST[0]}::test_two",
        f"{LONGEST_FIRST[1]}::test_one",
        "tests/unit/test_b.py::test_one",
        "tests/unit/test_b.py::test_two",
        "tests/unit/test_a.py::test_one",
        "tests/unit/test_c.py::test_one",
    ]
