"""Text a person types (names, titles, comments, reasons): one rule for every service's
commands. Refused: control characters (a bell, a terminal's escape codes, U+0085), the
characters that reorder text when shown (bidirectional overrides, embeddings, isolates and
marks: a name that reads one way and sorts another), line and paragraph separators, lone
surrogates, and text with nothing visible in it (only a zero-width joiner). A line break is
for text of several lines (`Lines`: descriptions, comments, reasons), where a tab is allowed
too and a Windows line break is kept as a line break; a name or a title is one `Line`.

Commands strip surrounding whitespace before this runs; lengths are the commands' own."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# C0 and C1 controls and DEL; bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E,
# U+2066-U+2069); line and paragraph separators; surrogates (JSON's "\ud800" alone)
_UNSEEN = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
_REFUSED_IN_A_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_UNSEEN}]")
_REFUSED_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_UNSEEN}]")  # \t and \n are not


def _refuse(text: str, refused: re.Pattern[str]) -> str:
    found = refused.search(text)
    if found:
        char = found.group()
        if char in "\r\n" and refused is _REFUSED_IN_A_LINE:
            raise ValueError("此项只写一行：请删去换行")
        kind = "a lone surrogate" if unicodedata.category(char) == "Cs" else "a control character"
        name = unicodedata.name(char, kind).lower()
        raise ValueError(f"不能含有控制字符 U+{ord(char):04X}（{name}）：请删去后再提交")
    if text and not any(_visible(c) for c in text):
        raise ValueError("请填写文字内容（不能只有空格或不可见字符）")
    return text


def _visible(char: str) -> bool:
    """Not a space, a format character or a mark alone (a character newer than Python's
    Unicode tables, or one for private use, such as a rare name's, counts as visible)."""
    category = unicodedata.category(char)
    return category[0] not in "ZM" and category not in ("Cc", "Cf", "Cs")


def one_line(text: str) -> str:
    return _refuse(text, _REFUSED_IN_A_LINE)


def several_lines(text: str) -> str:
    return _refuse(text.replace("\r\n", "\n"), _REFUSED_IN_LINES)


Line = Annotated[str, AfterValidator(one_line)]
Lines = Annotated[str, AfterValidator(several_lines)]
