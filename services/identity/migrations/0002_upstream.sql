-- A sign-in at a county's own provider between its two halves: the client's state (its PKCE
-- verifier among it), kept here, never in a URL or a cookie; the browser holds a random id.
CREATE TABLE upstream_pending (
    pending_hash  text PRIMARY KEY,
    state_blob    text        NOT NULL,
    request_token text        NOT NULL,
    expires_at    timestamptz NOT NULL
);
