"""The published event contract as an AsyncAPI 3.0 document, generated from the registries.

`gongkai asyncapi` writes it to docs/asyncapi.json; a test fails when the file is stale, and
another runs the official AsyncAPI parser on it. Every schema version a log may hold has its
message, `<service>.<EventType>.v<N>` (old versions: the models the upcasters read); the
models' nested definitions are shared in components.schemas as `<service>.<Name>`.
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
        "ce-schemaversion": {
            "type": "string",
            "description": "the schema version of `data` (1, 2, ...): the message "
            "<service>.<ce-type>.v<ce-schemaversion> describes it",
        },
        "Nats-Msg-Id": {"type": "string", "description": "= ce-id; broker de-duplication"},
        "content-type": {"const": "application/json"},
    },
}


def _hoisted(schema: dict[str, Any], service: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema with pydantic's local definitions moved to components.schemas as
    `<service>.<Name>` and its references pointed there: in the document a `#/$defs/...`
    would resolve against the root, where nothing is defined."""
    defs: dict[str, Any] = schema.get("$defs", {})
    names = {f"#/$defs/{name}": f"#/components/schemas/{service}.{name}" for name in defs}

    def pointed(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: names[value] if key == "$ref" and isinstance(value, str) else pointed(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [pointed(item) for item in node]
        return node

    for name, definition in defs.items():
        key, hoisted = f"{service}.{name}", pointed(definition)
        if schemas.setdefault(key, hoisted) != hoisted:
            raise ValueError(f"two different schemas are named {key}: rename one of the models")
    return {key: pointed(value) for key, value in schema.items() if key != "$defs"}


def build_document(services: dict[str, EventRegistry], root: str = "gongkai") -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Headers": HEADERS}
    for service, registry in sorted(services.items()):
        for event_type, current in sorted(registry.types.items()):
            key = f"{service}.{event_type}"
            versions: dict[str, Any] = {}
            for model in registry.versions(event_type):  # every version a log may hold
                name = f"{event_type}.v{model.schema_version}"
                messages[f"{service}.{name}"] = {
                    "name": name,
                    "title": f"{service}: {event_type}, version {model.schema_version}",
                    "summary": (model.__doc__ or event_type).strip().splitlines()[0],
                    "contentType": "application/json",
                    "headers": {
                        "type": "object",
                        "allOf": [
                            {"$ref": "#/components/schemas/Headers"},
                            {
                                "properties": {
                                    "ce-type": {"const": event_type},
                                    "ce-schemaversion": {"const": str(model.schema_version)},
                                }
                            },
                        ],
                    },
                    "payload": _hoisted(model.model_json_schema(), service, schemas),
                    "x-schema-version": model.schema_version,
                    "x-stream": f"{root.upper()}_{service.upper()}",
                }
                versions[name] = {"$ref": f"#/components/messages/{service}.{name}"}
            channels[key] = {
                "address": f"{root}.{service}.{{township}}.{current.aggregate_type}.{event_type}",
                "parameters": {
                    "township": {
                        "description": "the partition: a township id "
                        "(or the county id for county-wide events)"
                    }
                },
                "messages": versions,
            }
            operations[f"{key}.publish"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{name}"} for name in versions],
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
                "of the envelope without sequence, prevhash and hash). Events stay as they "
                "were written, so a stream holds every schema version of a type: the header "
                "ce-schemaversion says which one `data` is in, and the message "
                "<service>.<EventType>.v<version> is its schema (the channel of a type lists "
                "all its versions)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_document(path: Path, services: dict[str, EventRegistry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(build_document(services)), encoding="utf-8")
