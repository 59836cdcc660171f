"""Choosing a person from a long list (issue 18): beside the `<select>` a search box, and the
select holds only the people found (at most `SHOWN`), never a township's whole roll.

A page's person field is drawn by the `pick` macro (templates/macros.html) from a source: an
async function registered here by name (`@source("members")`) that asks the services, with the
signed-in person's own token, for the people whose name holds the typed text. The page calls
the source itself when it renders (with `?find_<element id>=…` when the search was sent without
JavaScript: the page's GET form `pick-find`, macros.html `pick_form`), and `/pick/{source}`
answers the same source as a partial, the select and its note, that static/picker.js puts in
place as the person types (debounced). Each source asks only for what the person may see, with
their own token: the services refuse the rest, and the refusal is the note."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, Signed

router = APIRouter()
SHOWN = 20  # people in the select at once; more are found by typing
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # the services' ids (ID_PATTERN)
FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")  # a form field's name or element id


@dataclass(frozen=True)
class Found:
    """What a source found for the typed text `q`: the options (value, label) to show, and
    whether more matched than are shown. `url` is where the page asks again as one types."""

    options: list[tuple[str, str]]
    q: str = ""
    more: bool = False
    url: str = ""


Source = Callable[[Desk, str, Mapping[str, str]], Awaitable[Found]]
SOURCES: dict[str, Source] = {}


def source(name: str) -> Callable[[Source], Source]:
    """Registers a page's source of people under `name` (its `/pick/{name}` address)."""

    def register(fn: Source) -> Source:
        SOURCES[name] = fn
        return fn

    return register


def an_id(params: Mapping[str, str], name: str) -> str:
    """An id the source needs from its address; a malformed one is refused."""
    value = params.get(name, "")
    if not ID.match(value):
        raise Refused(400, "查找条件不完整，请刷新页面后再试。")
    return value


def matching(
    rows: Iterable[tuple[str, str]], q: str, *, filtered: bool = False, chosen: str = ""
) -> Found:
    """The first `SHOWN` of `rows` whose label holds `q` (`filtered`: the service already
    found them by name), and the `chosen` one (a refused form's) if it is further on."""
    q = q.strip()
    hits = [r for r in rows if filtered or not q or q in r[1]]
    shown = hits[:SHOWN] + [r for r in hits[SHOWN:] if chosen and r[0] == chosen]
    return Found(shown, q=q, more=len(hits) > SHOWN)


async def find(
    desk: Desk, name: str, q: str, chosen: tuple[str, str] | None = None, **params: str
) -> Found:
    """A page's person field: what source `name` finds for `q` (and `chosen`, the field's
    value now with its label, kept on the list), and the address to ask again as one types."""
    found = await SOURCES[name](desk, q.strip(), params)
    options = list(found.options)
    if chosen and chosen[0] and chosen[0] not in {v for v, _ in options}:
        options.append(chosen)
    return offered(Found(options, q=found.q, more=found.more), name, **params)


def offered(found: Found, name: str, **params: str) -> Found:
    """`found`, as a page that has read the people already finds them, with the address of
    source `name` (and its `params`) to ask again as one types."""
    return Found(found.options, q=found.q, more=found.more, url=f"/pick/{name}?{urlencode(params)}")


def typed(desk: Desk, element: str) -> str:
    """The text searched without JavaScript in the picker of element id `element` (the GET
    form's `?find_<element>=…`)."""
    return desk.request.query_params.get(f"find_{element}", "").strip()[:64]


@router.get("/pick/{name}")
async def pick(
    name: str,
    request: Request,
    desk: Signed,
    q: Annotated[str, Query(max_length=64)] = "",
    field_name: Annotated[str, Query(alias="field", pattern=FIELD.pattern)] = "",
    element: Annotated[str, Query(alias="id", pattern=FIELD.pattern)] = "",
    placeholder: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The people found for `q` as the select of the field (its name and id kept) and its note,
    for picker.js to put in place; a refusal is the note, in Chinese."""
    if name not in SOURCES:
        raise Refused(404, "没有这项查找。")
    skip = {"q", "field", "id", "placeholder"}
    params = {k: v for k, v in request.query_params.items() if k not in skip}
    context: dict[str, Any] = {"name": field_name, "id": element, "placeholder": placeholder}
    try:
        found = await SOURCES[name](desk, q.strip(), params)
    except Refused as refused:
        found = Found([], q=q)
        return desk.page("pick.html", refused.status, found=found, note=refused.message, **context)
    return desk.page("pick.html", found=found, note="", **context)
