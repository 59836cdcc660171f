-- Invitations to vote (issue 17). Only the SHA-256 of each code is kept, never the code (it
-- is shown once, in the answer that issues it). Beside the log, not a read model: the events
-- record that an invitation was issued (InvitationIssued / InvitationReissued), never its
-- code, so nothing could rebuild this table; a rebuild of the read models leaves it alone.
CREATE TABLE invitations (
    code_hash text PRIMARY KEY,
    scope     text NOT NULL CHECK (scope IN ('round', 'check')),
    scope_id  text NOT NULL,
    rater_id  text NOT NULL,
    -- live: it votes; replaced: a new code was issued for the rater; expired: closed
    state     text NOT NULL CHECK (state IN ('live', 'replaced', 'expired'))
);
CREATE INDEX invitations_scope ON invitations (scope_id, rater_id);
-- The urn: web ballots waiting to be appended to the ballot box in a shuffled batch. Written
-- in the same transaction as the rater's participation (nothing is lost); a row leaves when
-- its ballot is appended. No rater, no time, a random key: the rows carry no order.
CREATE TABLE urn (
    ballot_id uuid PRIMARY KEY,
    scope     text  NOT NULL CHECK (scope IN ('round', 'check')),
    scope_id  text  NOT NULL,
    grades    jsonb NOT NULL  -- subject id -> grade (a check: {"item": grade})
);
CREATE INDEX urn_scope ON urn (scope_id);
-- Failed code attempts against guessing: per client address (its hash) and for the whole
-- service, with growing delays. No code, no address in the clear.
CREATE TABLE vote_attempts (
    key           text PRIMARY KEY,
    failures      integer     NOT NULL,
    blocked_until timestamptz NOT NULL,
    last_at       timestamptz NOT NULL
);
