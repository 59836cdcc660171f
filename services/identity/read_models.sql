-- The identity service's read models: people and every post they held, from when to when
-- (so "who could do what on a date" is a query), rebuilt from the log alone.
CREATE TABLE people (
    person_id   text PRIMARY KEY,
    name        text        NOT NULL,
    county_id   text        NOT NULL,
    source      text        NOT NULL,
    locked      boolean     NOT NULL DEFAULT false,
    locked_at   timestamptz,
    registered  timestamptz NOT NULL
);
CREATE INDEX people_county ON people (county_id);
CREATE TABLE posts (
    event_id    uuid PRIMARY KEY,
    person_id   text        NOT NULL,
    role        text        NOT NULL,
    org         text        NOT NULL,
    source      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    started_by  text        NOT NULL,
    reason      text        NOT NULL,
    ended_at    timestamptz,
    ended_by    text,
    end_reason  text
);
CREATE INDEX posts_person ON posts (person_id, started_at);
CREATE INDEX posts_org ON posts (org, role) WHERE ended_at IS NULL;
CREATE TABLE credential_changes (
    event_id  uuid PRIMARY KEY,
    person_id text        NOT NULL,
    kind      text        NOT NULL,
    at        timestamptz NOT NULL,
    by        text        NOT NULL
);
CREATE INDEX credential_changes_person ON credential_changes (person_id, at);
CREATE TABLE upstream_links (
    person_id    text        NOT NULL,
    issuer       text        NOT NULL,
    subject_hash text        NOT NULL,
    attribute    text        NOT NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject_hash)
);
