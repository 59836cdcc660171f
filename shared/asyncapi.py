"""The published event contract as an AsyncAPI 3.0 document, generated from the registries.

`gongkai asyncapi` writes it to docs/asyncapi.json; a test fails when the file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.envelope import EventEnvelope
from shared.events import EventRegistry

HEADERS = {  # CloudEvents binary mode: every attribute but `data` travels as a ce- header
    "type": "object",
    "required": [
        f"ce-{name}"
        for name in (
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "streamid",
            "streamversion",
            "partition",
            "sequence",
            "schemaversion",
            "actor",
            "actorrole",
            "correlationid",
            "prevhash",
            "hash",
        )
    ]
    + ["Nats-Msg-Id"],
    "properties": {
        **{
            f"ce-{name}": {"type": "string", "description": field.description or name}
            for name, field in EventEnvelope.model_fields.items()
            if name not in ("data", "datacontenttype")
        },
        "Nats-Msg-Id": {"type": "string", "description": "= ce-id; broker de-duplication"},
        "content-type": {"const": "application/json"},
    },
}


def build_document(services: dict[str, EventRegistry], root: str = "gongkai") -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, registry in sorted(services.items()):
        for event_type, model in sorted(registry.types.items()):
            key = f"{service}.{event_type}"
            aggregate = model.aggregate_type
            messages[key] = {
                "name": event_type,
                "title": f"{service}: {event_type}",
                "summary": (model.__doc__ or event_type).strip().splitlines()[0],
                "contentType": "application/json",
                "headers": HEADERS,
                "payload": model.model_json_schema(),
                "x-schema-version": model.schema_version,
                "x-stream": f"{root.upper()}_{service.upper()}",
            }
            channels[key] = {
                "address": f"{root}.{service}.{{township}}.{aggregate}.{event_type}",
                "parameters": {
                    "township": {
                        "description": "the partition: a township id "
                        "(or the county id for county-wide events)"
                    }
                },
                "messages": {event_type: {"$ref": f"#/components/messages/{key}"}},
            }
            operations[f"{key}.publish"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{event_type}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Gongkai events",
            "version": "1.0.0",
            "description": (
                "Every event of every Gongkai service, as published on NATS JetStream. "
                "Subjects: <root>.<service>.<township>.<aggregate>.<EventType>; one stream per "
                "service (<ROOT>_<SERVICE>), file storage, kept forever. Messages are "
                "CloudEvents in binary mode: attributes in ce- headers, `data` as the JSON "
                "body. Per township, ce-sequence is gap-free and ce-hash chains the events: "
                "hash = sha256(prevhash || sequence (8 bytes, big-endian) || canonical JSON "
                "of the envelope without sequence, prevhash and hash)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_document(path: Path, services: dict[str, EventRegistry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(build_document(services)), encoding="utf-8")
