-- The review service's read models (plus shared.directory's copy of the hierarchy):
-- disposable, rebuilt from the log and the inbox (unqualified names; the rebuild picks the schema).

-- The pledge status of every branch and member, from the pledge service's events (R3).
CREATE TABLE pledge_copy (
    pledge_id   text PRIMARY KEY,
    year        integer NOT NULL,
    branch_id   text    NOT NULL,
    member_id   text,
    township_id text    NOT NULL,
    status      text    NOT NULL
);
CREATE INDEX pledge_copy_pledger ON pledge_copy (branch_id, member_id, year);
CREATE TABLE pledge_copy_items (
    item_id       text PRIMARY KEY,
    pledge_id     text NOT NULL,
    ledger_status text            -- null until published, then open / closed
);
CREATE INDEX pledge_copy_items_pledge ON pledge_copy_items (pledge_id);

-- Every version of every review; the current one has superseded_by null (R4).
CREATE TABLE reviews (
    review_id          text PRIMARY KEY,
    original_review_id text        NOT NULL,
    corrects_review_id text,
    superseded_by      text,
    township_id        text        NOT NULL,
    branch_id          text        NOT NULL,
    subject_kind       text        NOT NULL,
    subject_id         text        NOT NULL,
    subject_name       text        NOT NULL,
    reviewer_id        text        NOT NULL,
    reviewer_name      text        NOT NULL,
    occasion           text        NOT NULL,
    cadence            text        NOT NULL,
    quarter            text        NOT NULL,
    held_on            date        NOT NULL,
    achievements       text        NOT NULL,
    shortcomings       text        NOT NULL,
    direction          text        NOT NULL,
    assessments        jsonb       NOT NULL,
    pledge_status      jsonb       NOT NULL,
    reason             text,
    recorded_by        text        NOT NULL,
    recorded_at        timestamptz NOT NULL,
    sequence           bigint      NOT NULL, -- the event's place in its township's log
    files              jsonb       NOT NULL DEFAULT '[]'  -- evidence files (hash, size, type, name)
);
CREATE INDEX reviews_township ON reviews (township_id, quarter);
CREATE INDEX reviews_subject ON reviews (subject_id, quarter);

CREATE TABLE journal_entries (
    entry_id          text PRIMARY KEY,
    corrects_entry_id text,
    superseded_by     text,
    township_id       text        NOT NULL,
    branch_id         text        NOT NULL,
    member_id         text        NOT NULL,
    month             text        NOT NULL,
    recorded_on       date        NOT NULL,
    work_content      text        NOT NULL,
    duty_performance  text        NOT NULL,
    reason            text,
    entered_by        text,  -- the secretary, from the member's paper; null: the member (R6)
    recorded_at       timestamptz NOT NULL,
    sequence          bigint      NOT NULL,
    files             jsonb       NOT NULL DEFAULT '[]'  -- evidence files (hash, size, type, name)
);
CREATE INDEX journal_entries_member ON journal_entries (member_id, month);
CREATE TABLE presentations (
    member_id      text        NOT NULL,
    month          text        NOT NULL,
    township_id    text        NOT NULL,
    branch_id      text        NOT NULL,
    presented_on   date        NOT NULL,
    entry_ids      jsonb       NOT NULL,
    grade          text        NOT NULL,
    evaluation     text        NOT NULL,
    evaluator_id   text        NOT NULL,
    evaluator_name text        NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (member_id, month)
);

CREATE TABLE visits (
    visit_id       text PRIMARY KEY,
    township_id    text        NOT NULL,
    branch_id      text        NOT NULL,
    cadre_id       text        NOT NULL,
    cadre_name     text        NOT NULL,
    visited_on     date        NOT NULL,
    summary        text        NOT NULL,
    problems_found text,
    guidance_given text,
    at             timestamptz NOT NULL,
    files          jsonb       NOT NULL DEFAULT '[]'  -- evidence files (hash, size, type, name)
);
CREATE INDEX visits_township ON visits (township_id, visited_on);

-- The leaders the township office assigned to each branch, now (R1).
CREATE TABLE branch_leaders (
    branch_id   text NOT NULL,
    leader_id   text NOT NULL,
    township_id text NOT NULL,
    leader_name text NOT NULL,
    assigned_on date NOT NULL,
    PRIMARY KEY (branch_id, leader_id)
);

-- Who sits on each township committee now (R1: the office assigns the township's leaders),
-- from the identity service's PostStarted / PostEnded of the township_committee post.
CREATE TABLE committee_seats (
    township_id text NOT NULL,
    person_id   text NOT NULL,
    PRIMARY KEY (township_id, person_id)
);

-- Evidence files (shared/files.py) by the records that attach them: who may see the record
-- may see its files (a current review and a visit: everyone; a superseded review: its
-- township's staff and auditors; a journal entry: whoever sees the member's journal).
CREATE TABLE attached_files (
    sha256      text NOT NULL,
    event_id    uuid NOT NULL,
    kind        text NOT NULL,  -- review, journal, visit
    record_id   text NOT NULL,  -- review_id (the version), entry_id, visit_id
    township_id text NOT NULL,
    member_id   text,           -- a journal's
    media_type  text NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (sha256, event_id)
);
