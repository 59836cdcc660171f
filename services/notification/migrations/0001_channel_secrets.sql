-- Channels' addresses and signing secrets: credentials, not history, so never in an event
-- (other systems read the stream); kept beside the log, not in the read models.
CREATE TABLE channel_secrets (
    channel_id text PRIMARY KEY,
    target     text NOT NULL,
    secret     text
);
