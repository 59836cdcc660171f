"""What a service reads of another service's events is what that service really publishes.

The review, evaluation and notification services parse every other service's event they
project with models of their own (`services/*/contracts.py`; the directory's events
excepted, which every service's copy reads through `shared/directory.py`; the pledge service
reads the evaluation's verdict with the event class its contract declares, since its policy
decodes it as a command's cause), and some end-to-end tests publish events through
stand-ins. This test holds the readers to the publishers' real event classes: every field
a consumer needs is one the publisher sends, with values the consumer accepts.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from gongkai.operator.contract import published_registries
from services.evaluation.contracts import CONSUMED as EVALUATION_READS
from services.notification.contracts import CONSUMED as NOTIFICATION_READS
from services.pledge.contracts import CONSUMED as PLEDGE_READS
from services.review.contracts import CONSUMED as REVIEW_READS

Schema = dict[str, Any]


def producer_of(event_type: str) -> type[BaseModel]:
    found = [
        registry.types[event_type]
        for registry in published_registries().values()
        if event_type in registry.types
    ]
    assert len(found) == 1, f"{event_type}: published by {len(found)} services"
    return found[0]


def resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def kinds(schema: Schema, root: Schema) -> set[str]:
    """The JSON types a schema admits ("any" when it says nothing)."""
    schema = resolve(schema, root)
    if "anyOf" in schema:
        return set().union(*(kinds(s, root) for s in schema["anyOf"]))
    if "type" in schema:
        return {schema["type"]}
    if "enum" in schema:
        return {type(v).__name__.replace("str", "string") for v in schema["enum"]}
    return {"any"}


def mismatches(
    consumer: Schema, c_root: Schema, producer: Schema, p_root: Schema, path: str
) -> list[str]:
    consumer, producer = resolve(consumer, c_root), resolve(producer, p_root)
    accepted, sent = kinds(consumer, c_root), kinds(producer, p_root)
    if "number" in accepted:
        accepted.add("integer")
    if "any" not in accepted and not sent <= accepted:
        return [f"{path}: sent as {sorted(sent)}, read as {sorted(accepted)}"]
    if "items" in consumer and "items" in producer:
        return mismatches(consumer["items"], c_root, producer["items"], p_root, f"{path}[]")
    problems = []
    for name, field in consumer.get("properties", {}).items():
        required = name in consumer.get("required", ())
        if name not in producer.get("properties", {}):
            if required:
                problems.append(f"{path}.{name}: read, never sent")
            continue
        sent_field = producer["properties"][name]
        problems += mismatches(field, c_root, sent_field, p_root, f"{path}.{name}")
    return problems


READS: dict[str, dict[str, type[BaseModel]]] = {
    "pledge": dict(PLEDGE_READS.types),
    "notification": NOTIFICATION_READS,
    "evaluation": EVALUATION_READS,
    "review": REVIEW_READS,
}


@pytest.mark.parametrize(
    ("reader", "event_type"),
    [(reader, event_type) for reader, reads in READS.items() for event_type in sorted(reads)],
)
def test_a_consumer_reads_only_what_is_published(reader: str, event_type: str) -> None:
    consumer = READS[reader][event_type].model_json_schema()
    producer = producer_of(event_type).model_json_schema(mode="serialization")
    assert mismatches(consumer, consumer, producer, producer, event_type) == []


def test_the_check_catches_a_field_not_published_and_one_of_another_type() -> None:
    class Consumer(BaseModel):
        review_id: str
        mood: str  # no publisher sends this
        assessments: list[int]  # sent as objects

    schema = Consumer.model_json_schema()
    producer = producer_of("ReviewRecorded").model_json_schema(mode="serialization")
    assert mismatches(schema, schema, producer, producer, "ReviewRecorded") == [
        "ReviewRecorded.mood: read, never sent",
        "ReviewRecorded.assessments[]: sent as ['object'], read as ['integer']",
    ]
