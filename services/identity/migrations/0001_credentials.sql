-- Credentials and sign-in state: secrets, not history, so never in an event (other systems
-- read the stream) and never in a read model (a rebuild must not need them). Kept beside the
-- log; events record only that a credential was set or reset, and by whom.
CREATE TABLE identity_pepper (
    name text PRIMARY KEY,
    key  bytea NOT NULL
);
CREATE TABLE credentials (
    person_id          text PRIMARY KEY,
    login_hash         text UNIQUE,           -- HMAC of the phone or ID number
    password_hash      text,                  -- argon2id
    password_set_at    timestamptz,
    previous_hashes    text[] NOT NULL DEFAULT '{}',
    activation_hash    text,                  -- argon2id of the one-time code
    activation_expires timestamptz,
    totp_secret        text,
    failures           integer NOT NULL DEFAULT 0,
    locked_until       timestamptz,
    locks              integer NOT NULL DEFAULT 0
);
CREATE TABLE address_failures (
    address text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX address_failures_at ON address_failures (address, at);
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    private_pem bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);
CREATE TABLE sessions (
    session_hash text PRIMARY KEY,
    person_id    text        NOT NULL,
    stage        text        NOT NULL,   -- second_factor, enrol, password, signed_in
    pending      text,                   -- a TOTP secret being enrolled
    created_at   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL
);
CREATE TABLE authorization_codes (
    code_hash      text PRIMARY KEY,
    client_id      text        NOT NULL,
    redirect_uri   text        NOT NULL,
    code_challenge text        NOT NULL,
    nonce          text,
    person_id      text        NOT NULL,
    role           text        NOT NULL,
    org            text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    family_id      text                  -- the refresh tokens it gave (revoked on replay)
);
CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY,
    family_id  text        NOT NULL,
    client_id  text        NOT NULL,
    person_id  text        NOT NULL,
    role       text        NOT NULL,
    org        text        NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE TABLE clients (
    client_id   text PRIMARY KEY,
    secret_hash text        NOT NULL,      -- argon2id
    county_id   text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
