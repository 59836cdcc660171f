-- The service's event log and the mechanism tables around it (A1, architecture invariants).

CREATE TABLE events (
    position       bigserial PRIMARY KEY,            -- insertion order across partitions
    id             uuid        NOT NULL UNIQUE,
    stream_id      text        NOT NULL,
    stream_version integer     NOT NULL CHECK (stream_version > 0),
    partition      text        NOT NULL,             -- the township (or the county)
    sequence       bigint      NOT NULL CHECK (sequence > 0),
    type           text        NOT NULL,
    time           timestamptz NOT NULL,
    body           bytea       NOT NULL,             -- canonical JSON covered by the hash
    prev_hash      bytea       NOT NULL,
    hash           bytea       NOT NULL,
    UNIQUE (stream_id, stream_version),
    UNIQUE (partition, sequence)
);
CREATE INDEX events_time ON events (time);

-- One head row per partition: locked, advanced and chained by the statement that appends,
-- so sequences are gap-free and partitions append in parallel.
CREATE TABLE partition_heads (
    partition text PRIMARY KEY,
    sequence  bigint NOT NULL,
    hash      bytea  NOT NULL,
    prev_hash bytea  NOT NULL
);

CREATE FUNCTION reject_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION reject_event_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_change();

-- Outbox relay: the last sequence of each partition published to JetStream.
CREATE TABLE relay_positions (
    partition text PRIMARY KEY,
    sequence  bigint NOT NULL
);

-- Subscription runner: the last sequence consumed per (consumer, source service, partition),
-- written in the same transaction as the handler's effect.
CREATE TABLE consumer_positions (
    consumer  text   NOT NULL,
    source    text   NOT NULL,
    partition text   NOT NULL,
    sequence  bigint NOT NULL,
    PRIMARY KEY (consumer, source, partition)
);

-- Messages a handler could not process after several deliveries (poison), kept for operators.
CREATE TABLE parked_messages (
    id        bigserial PRIMARY KEY,
    consumer  text        NOT NULL,
    event_id  text,
    subject   text        NOT NULL,
    headers   jsonb       NOT NULL,
    payload   bytea       NOT NULL,
    error     text        NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency keys of state-changing HTTP requests: a retry returns the first response.
CREATE TABLE idempotency_keys (
    principal    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       integer     NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- Which read-model definition the live read-model schema was built with.
CREATE TABLE read_model_state (
    schema_name text PRIMARY KEY,
    checksum    text        NOT NULL,
    position    bigint      NOT NULL,
    rebuilt_at  timestamptz NOT NULL DEFAULT now()
);
