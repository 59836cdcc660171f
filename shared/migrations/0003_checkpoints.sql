-- Signed checkpoints (A6): the service's signature over the Merkle roots of every partition.
CREATE TABLE checkpoints (
    id        bigserial PRIMARY KEY,
    issued_at timestamptz NOT NULL,
    body      bytea       NOT NULL,   -- canonical JSON: service, time, partition sizes and roots
    signature bytea       NOT NULL,   -- Ed25519 over body
    key_id    text        NOT NULL
);

CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION reject_event_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_change();
