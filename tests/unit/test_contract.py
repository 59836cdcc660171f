"""The published contract (docs/asyncapi.json) is generated from the code and kept fresh."""

from __future__ import annotations

import json
from pathlib import Path

from services.cli.contract import published_registries
from services.pledge.events import REGISTRY
from shared.asyncapi import build_document, render

DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.json"


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
        payload = document["components"]["messages"][f"pledge.{event_type}"]["payload"]
        assert set(payload["properties"]) == set(model.model_fields)
    verdict = document["components"]["messages"]["evaluation.SatisfactionVerdictReached"]
    assert {"verdict", "satisfaction_rate", "item_id"} <= set(verdict["payload"]["properties"])
