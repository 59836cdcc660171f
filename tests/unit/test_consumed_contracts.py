"""What a service reads of another service's events is what that service really publishes.

The review, evaluation, notification and identity services parse every other service's event they
project with models of their own (`services/*/contracts.py`; the directory's events
excepted, which every service's copy reads through `shared/directory.py`), projections and
policies alike, and some end-to-end tests publish events through stand-ins. This test holds
the readers to the publishers' real event classes: every field a consumer needs is one the
publisher sends, with values the consumer accepts; and a field a publisher adds (anywhere in
its event) stops no reader: every published type, with an unknown field added, still decodes
by every contract that reads it.
"""

from __future__ import annotations

import types
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from gongkai.operator.contract import published_registries
from services.evaluation.contracts import CONSUMED as EVALUATION_READS
from services.identity.contracts import CONSUMED as IDENTITY_READS
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
    "pledge": PLEDGE_READS,
    "notification": NOTIFICATION_READS,
    "evaluation": EVALUATION_READS,
    "review": REVIEW_READS,
    "identity": IDENTITY_READS,
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


# --- a field added by a publisher stops no reader ----------------------------------------

ADDED = "added_later"  # a field no reader knows


def sample(annotation: Any, *, added: bool) -> Any:
    """A valid JSON value of the type (an object of a model: every field, and with `added`
    one unknown field more)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)), added=added)
    if origin in (tuple, list, set, frozenset):
        return [sample(args[0], added=added)]
    if origin is Annotated:
        return sample(args[0], added=added)
    if origin is dict:
        return {sample(args[0], added=added): sample(args[1], added=added)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        data = {
            name: bounded(sample(field.annotation, added=added), field.metadata)
            for name, field in annotation.model_fields.items()
        }
        return {**data, ADDED: "x"} if added else data
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if annotation is bool:
        return True
    if annotation is int:
        return 1
    if annotation is float:
        return 0.5
    if annotation is datetime:
        return "2026-05-01T08:00:00+00:00"
    if annotation is date:
        return "2026-05-01"
    return "x1"  # text and ids


def bounded(value: Any, metadata: list[Any]) -> Any:
    """A number within the field's bounds (`Field(ge=5)`)."""
    for bound in metadata:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = max(value, getattr(bound, "ge", value), getattr(bound, "gt", value - 1) + 1)
    return value


PUBLISHED = sorted(
    (service, event_type)
    for service, registry in published_registries().items()
    for event_type in registry.types
)


def readers_of(event_type: str) -> list[type[BaseModel]]:
    return [reads[event_type] for reads in READS.values() if event_type in reads]


def test_every_published_type_with_a_field_added_decodes_by_every_reader() -> None:
    assert len(PUBLISHED) > 50
    assert {s for s, _ in PUBLISHED} == set(READS)
    for service, event_type in PUBLISHED:
        model = published_registries()[service].types[event_type]
        model.model_validate(sample(model, added=False))  # a valid instance of what is sent
        with pytest.raises(ValidationError):  # the publisher's own class is strict
            model.model_validate(sample(model, added=True))
        for reader in readers_of(event_type):
            reader.model_validate(sample(model, added=True))
    read = {t for reads in READS.values() for t in reads}
    assert read <= {t for _, t in PUBLISHED}  # every contract was tried


def test_a_strict_reader_is_caught() -> None:
    reader = READS["pledge"]["SatisfactionVerdictReached"]
    strict = type("Strict", (reader,), {"model_config": ConfigDict(extra="forbid")})
    model = producer_of("SatisfactionVerdictReached")
    reader.model_validate(sample(model, added=True))
    with pytest.raises(ValidationError):
        strict.model_validate(sample(model, added=True))
