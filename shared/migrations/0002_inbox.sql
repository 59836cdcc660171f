-- Events consumed from other services, kept as they came (append-only), so that read models
-- built from them rebuild too. Positions share the log's sequence: one replay order.
CREATE TABLE inbox (
    position  bigint PRIMARY KEY DEFAULT nextval('events_position_seq'),
    source    text        NOT NULL,   -- the publishing service
    id        uuid        NOT NULL UNIQUE,
    partition text        NOT NULL,
    sequence  bigint      NOT NULL,
    type      text        NOT NULL,
    time      timestamptz NOT NULL,
    body      bytea       NOT NULL,   -- the whole envelope as canonical JSON
    UNIQUE (source, partition, sequence)
);

CREATE TRIGGER inbox_append_only BEFORE UPDATE OR DELETE ON inbox
    FOR EACH ROW EXECUTE FUNCTION reject_event_change();
CREATE TRIGGER inbox_no_truncate BEFORE TRUNCATE ON inbox
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_change();
