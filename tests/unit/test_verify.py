"""A4, A6: the offline verifier says what its checks cannot reach. Events after a township's
last signed checkpoint are counted, a township no checkpoint covers is unsigned, and a bundle
stripped of its checkpoints is never verified, though a re-chained forgery keeps its links.

The bundles are written here as the service exports them (tests/e2e/test_audit.py checks the
verifier against a real service's), so no server is needed."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import merkle
from shared.audit.checkpoints import key_id, public_pem, summary_root
from shared.audit.verify import verify_bundle
from shared.envelope import GENESIS_HASH, EventEnvelope, canonical_json, chain_hash

NOW = datetime(2027, 3, 15, 2, 0, tzinfo=UTC)


class Log:
    """A service's log in miniature: hash-chained events per township, signed checkpoints."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.events: dict[str, list[EventEnvelope]] = {}
        self.checkpoints: list[dict[str, Any]] = []

    def append(self, partition: str, count: int = 1, data: dict[str, Any] | None = None) -> None:
        chain = self.events.setdefault(partition, [])
        for _ in range(count):
            prev = chain[-1].hash if chain else GENESIS_HASH
            draft = EventEnvelope(
                id=str(uuid.uuid4()),
                source="/gongkai/pledge",
                type="MemberEnrolled",
                subject=f"member/{len(chain) + 1}",
                time=NOW,
                streamid=f"member-{partition}-{len(chain) + 1}",
                streamversion=1,
                partition=partition,
                sequence=len(chain) + 1,
                schemaversion=1,
                actor="office",
                actorrole="township_office",
                correlationid=str(uuid.uuid4()),
                prevhash=prev,
                hash="",
                data=data or {"name": "王德明", "post": "党员服务岗"},
            )
            sealed = chain_hash(prev, draft.sequence, draft.body())
            chain.append(draft.model_copy(update={"hash": sealed}))

    def sign(self) -> None:
        """A checkpoint of every township's head, as shared/audit/checkpoints.py signs it."""
        partitions = {
            p: {
                "size": len(chain),
                "root": merkle.root([bytes.fromhex(e.hash) for e in chain]).hex(),
            }
            for p, chain in sorted(self.events.items())
        }
        body = {
            "id": len(self.checkpoints) + 1,
            "service": "pledge",
            "issued_at": "2027-03-15T02:00:00Z",
            "partitions": partitions,
            "root": summary_root(partitions),
        }
        raw = canonical_json(body)
        pem = public_pem(self.key)
        self.checkpoints.append(
            {
                "id": body["id"],
                "body": raw.decode(),
                "signature": self.key.sign(raw).hex(),
                "key_id": key_id(pem),
            }
        )

    def lines(self) -> list[str]:
        """The events as an export writes them: by partition and sequence."""
        return [e.model_dump_json() for _, chain in sorted(self.events.items()) for e in chain]

    def bundle(
        self,
        folder: Path,
        events: list[str] | None = None,
        checkpoints: list[dict[str, Any]] | None = None,
    ) -> Path:
        events = self.lines() if events is None else events
        checkpoints = self.checkpoints if checkpoints is None else checkpoints
        folder.mkdir()
        (folder / "events.jsonl").write_text("".join(f"{e}\n" for e in events), "utf-8")
        (folder / "checkpoints.jsonl").write_text(
            "".join(json.dumps(c) + "\n" for c in checkpoints)
        )
        (folder / "public_key.pem").write_bytes(public_pem(self.key))
        manifest = {"service": "pledge", "partition": None, "range": None}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return folder


def rechained(lines: list[str], changed: int) -> list[str]:
    """A forger changes one event and recomputes every hash after it: the links hold again."""
    out: list[str] = []
    prev: dict[str, str] = {}
    for number, line in enumerate(lines):
        event = json.loads(line)
        if number == changed:
            event["data"]["name"] = "冒名顶替"
        envelope = EventEnvelope.model_validate(event)
        before = prev.get(envelope.partition, GENESIS_HASH)
        sealed = chain_hash(before, envelope.sequence, envelope.body())
        prev[envelope.partition] = sealed
        out.append(
            envelope.model_copy(update={"prevhash": before, "hash": sealed}).model_dump_json()
        )
    return out


def test_a_fully_signed_bundle_is_verified_and_signed(tmp_path: Path) -> None:
    log = Log()
    log.append("t-a", 3)
    log.append("t-b", 2)
    log.sign()
    log.append("t-a", 2)
    log.sign()
    report = verify_bundle(log.bundle(tmp_path / "bundle"))
    assert report.ok, report.problems
    assert report.verified
    assert report.signed
    assert (report.after, report.unsigned) == (0, [])
    assert {p: (c.events, c.signed, c.after) for p, c in report.coverage.items()} == {
        "t-a": (5, 5, 0),
        "t-b": (2, 2, 0),
    }
    assert report.last_checkpoint == (2, "2027-03-15T02:00:00Z")
    assert report.key_id == key_id(public_pem(log.key))


def test_events_after_the_last_checkpoint_are_counted_per_township(tmp_path: Path) -> None:
    log = Log()
    log.append("t-a", 3)
    log.append("t-b", 2)
    log.sign()
    log.append("t-a", 2)  # not signed yet
    report = verify_bundle(log.bundle(tmp_path / "tail"))
    assert report.ok, report.problems
    assert report.verified  # up to the last checkpoint
    assert not report.signed  # what --require-signed asks
    assert report.after == 2
    assert {p: (c.events, c.signed, c.after) for p, c in report.coverage.items()} == {
        "t-a": (5, 3, 2),
        "t-b": (2, 2, 0),
    }

    # a township that appeared after the last checkpoint has none: unsigned, never verified
    log.append("t-c", 4)
    report = verify_bundle(log.bundle(tmp_path / "new-township"))
    assert report.ok, report.problems
    assert report.unsigned == ["t-c"]
    assert not report.verified
    assert not report.signed
    assert (report.coverage["t-c"].signed, report.coverage["t-c"].after) == (0, 4)
    assert report.after == 2 + 4


def test_a_bundle_stripped_of_its_checkpoints_is_unsigned_even_when_forged(
    tmp_path: Path,
) -> None:
    log = Log()
    log.append("t-a", 3)
    log.append("t-b", 2)
    log.sign()
    stripped = verify_bundle(log.bundle(tmp_path / "stripped", checkpoints=[]))
    assert stripped.ok, stripped.problems  # the links hold: nothing to fail
    assert stripped.checkpoints == 0
    assert stripped.unsigned == ["t-a", "t-b"]
    assert not stripped.verified
    assert not stripped.signed
    assert stripped.after == 5
    assert stripped.last_checkpoint is None

    # a re-chained forgery passes every link, so without checkpoints nothing can catch it:
    # it must not be called verified; with the signed checkpoints it is caught
    forged = rechained(log.lines(), changed=1)
    report = verify_bundle(log.bundle(tmp_path / "forged-stripped", forged, checkpoints=[]))
    assert report.ok, report.problems
    assert not report.verified
    assert report.unsigned == ["t-a", "t-b"]
    caught = verify_bundle(log.bundle(tmp_path / "forged-signed", forged))
    assert not caught.ok
    assert any("not the ones signed" in p for p in caught.problems), caught.problems


def test_an_empty_bundle_without_checkpoints_is_not_verified(tmp_path: Path) -> None:
    report = verify_bundle(Log().bundle(tmp_path / "empty"))
    assert report.ok
    assert (report.events, report.after, report.unsigned) == (0, 0, [])
    assert not report.verified  # nothing was signed, so nothing is vouched for


def test_a_bundle_with_files_names_a_changed_and_a_missing_file(tmp_path: Path) -> None:
    photo, minutes = b"\xff\xd8\xff a photo", b"%PDF-1.4 minutes %%EOF"
    refs = [
        {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "media_type": t, "name": n}
        for b, t, n in ((photo, "image/jpeg", "现场.jpg"), (minutes, "application/pdf", "纪要.pdf"))
    ]
    log = Log()
    log.append("t-a", data={"summary": "水渠修好一段", "files": refs})
    log.sign()

    def bundle(name: str, files: dict[str, bytes]) -> Path:
        folder = log.bundle(tmp_path / name)
        manifest = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps({**manifest, "files": len(files)}))
        (folder / "files").mkdir()
        for sha, data in files.items():
            (folder / "files" / sha).write_bytes(data)
        return folder

    whole = verify_bundle(bundle("whole", {refs[0]["sha256"]: photo, refs[1]["sha256"]: minutes}))
    assert whole.ok
    assert whole.files == 2
    tampered = verify_bundle(bundle("tampered", {refs[0]["sha256"]: photo + b"!"}))
    assert not tampered.ok
    assert tampered.files == 2
    changed, missing = tampered.problems
    assert refs[0]["sha256"] in changed
    assert "现场.jpg" in changed
    assert "changed" in changed
    assert refs[1]["sha256"] in missing
    assert "missing" in missing
    assert tampered.first_bad_event == json.loads(log.lines()[0])["id"]
    unchecked = verify_bundle(log.bundle(tmp_path / "without"))  # exported without files
    assert unchecked.ok
    assert unchecked.files is None
