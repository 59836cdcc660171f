-- Personal data of members of the public (A7): one key per person, kept only here. Events
-- carry the personal data sealed with it; erasing a person deletes the key (crypto-shredding),
-- so the log keeps its bytes and its hashes while the data can no longer be read. Never
-- exported, published or put into an event; not append-only (the runtime role may delete).
CREATE TABLE person_keys (
    person_id  text PRIMARY KEY,
    key        bytea       NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
