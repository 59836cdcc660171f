"""The embedded broker's generated passwords are ones nats-server can read: it parses a
`$VARIABLE` that begins with a digit as a number and refuses its whole configuration, so a
data directory holding such a password never started its broker again."""

from __future__ import annotations

import json
from pathlib import Path

import nats

from shared.embedded import NATS_USERS, EmbeddedNats, generated_passwords


def test_generated_passwords_begin_with_a_letter(tmp_path: Path) -> None:
    for n in range(200):
        passwords = generated_passwords(tmp_path / f"{n}.json", NATS_USERS)
        assert all(pw[:1].isalpha() for pw in passwords.values()), passwords
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"postgres": "3Skept"}), encoding="utf-8")
    assert generated_passwords(kept, {"postgres": ""}) == {"postgres": "3Skept"}  # in use


async def test_a_broker_whose_kept_password_begins_with_a_digit_starts(tmp_path: Path) -> None:
    data = tmp_path / "nats"
    data.mkdir()
    unreadable = {user: f"3S{user}" for user in NATS_USERS}
    (data / "passwords.json").write_text(json.dumps(unreadable), encoding="utf-8")
    broker = EmbeddedNats(data)
    broker.start()
    try:
        nc = await nats.connect(broker.url, allow_reconnect=False, max_reconnect_attempts=0)
        await nc.close()
    finally:
        broker.stop()
    assert broker.passwords != unreadable
