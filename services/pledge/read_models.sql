-- The pledge service's read models: disposable, rebuilt from the log (unqualified names;
-- the rebuild picks the schema).
CREATE TABLE counties (
    county_id text PRIMARY KEY,
    name      text NOT NULL
);
CREATE TABLE calendars (
    county_id         text    NOT NULL,
    year              integer NOT NULL,
    drafting_deadline date    NOT NULL,
    publication_deadline date,          -- NULL: the default, 16 days after drafting
    PRIMARY KEY (county_id, year)
);
CREATE TABLE categories (
    county_id  text  NOT NULL,
    kind       text  NOT NULL,
    categories jsonb NOT NULL,
    PRIMARY KEY (county_id, kind)
);
CREATE TABLE townships (
    township_id text PRIMARY KEY,
    county_id   text NOT NULL,
    name        text NOT NULL,
    head_id     text,
    head_name   text
);
CREATE TABLE branches (
    branch_id    text PRIMARY KEY,
    township_id  text    NOT NULL,
    county_id    text    NOT NULL,
    name         text    NOT NULL,
    kind         text    NOT NULL,
    village      text,
    secretary_id text,
    active       boolean NOT NULL,
    retired_reason text
);
CREATE INDEX branches_township ON branches (township_id);
CREATE TABLE members (
    member_id       text PRIMARY KEY,
    branch_id       text    NOT NULL,
    township_id     text    NOT NULL,
    name            text    NOT NULL,
    post            text    NOT NULL,
    duties          text    NOT NULL,
    leadership_team boolean NOT NULL,
    active          boolean NOT NULL,
    retired_reason  text
);
CREATE INDEX members_branch ON members (branch_id);
CREATE TABLE directory_history (
    event_id    uuid PRIMARY KEY,
    subject_id  text        NOT NULL,
    change      text        NOT NULL,
    detail      jsonb       NOT NULL,
    at          timestamptz NOT NULL
);
CREATE TABLE pledges (
    pledge_id    text PRIMARY KEY,
    year         integer     NOT NULL,
    pledger_kind text        NOT NULL,
    pledger_name text        NOT NULL,
    branch_id    text        NOT NULL,
    member_id    text,
    township_id  text        NOT NULL,
    county_id    text        NOT NULL,
    standard     text        NOT NULL,
    status       text        NOT NULL,
    round        integer     NOT NULL,
    basis        text,
    letter_no    text,
    drafted_at   timestamptz NOT NULL,
    published_at timestamptz,
    approved_on  date,                -- local date of the approval (P6)
    drafted_late boolean NOT NULL DEFAULT false,  -- approved after the drafting deadline
    -- the branch secretary who last entered a member's pledge (or part of it: the draft, an
    -- opinion, the proposal, a revision) on the member's behalf; null: the pledger's own
    entered_by   text,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX pledges_township ON pledges (township_id, year);
CREATE TABLE opinions (
    opinion_id  text PRIMARY KEY,
    pledge_id   text NOT NULL,
    channel     text NOT NULL,
    gathered_on date NOT NULL,
    summary     text NOT NULL
);
CREATE TABLE items (
    item_id        text PRIMARY KEY,
    pledge_id      text    NOT NULL,
    position       integer NOT NULL,
    township_id    text    NOT NULL,
    branch_id      text    NOT NULL,
    member_id      text,
    title          text    NOT NULL,
    description    text    NOT NULL,
    category       text    NOT NULL,
    target         text    NOT NULL,
    due_date       date    NOT NULL,
    shaped_by      jsonb   NOT NULL,
    review_status  text    NOT NULL,   -- pending / approved / returned
    guidance       text,
    ledger_status  text,               -- null until published, then open / closed
    done_reported  boolean NOT NULL DEFAULT false,
    problem_solved boolean NOT NULL DEFAULT false,
    implementation_verified boolean NOT NULL DEFAULT false,
    verdict        text,
    satisfaction_rate double precision,
    progress_percent integer NOT NULL DEFAULT 0,
    open_reasons   jsonb   NOT NULL DEFAULT '[]',  -- P10, as the pledge recorded them
    closed_at      timestamptz
);
CREATE INDEX items_pledge ON items (pledge_id);
CREATE INDEX items_ledger ON items (township_id, branch_id, ledger_status);
CREATE TABLE item_reviews (
    event_id  uuid PRIMARY KEY,
    pledge_id text    NOT NULL,
    item_id   text    NOT NULL,
    round     integer NOT NULL,
    shows_advanced_standard boolean NOT NULL,
    matches_wishes boolean NOT NULL,
    feasible  boolean NOT NULL,
    decision  text    NOT NULL,
    guidance  text,
    reviewer  text    NOT NULL,
    at        timestamptz NOT NULL
);
CREATE TABLE revisions (       -- P5: each resubmission's note and the items it revised
    pledge_id text        NOT NULL,
    round     integer     NOT NULL,
    note      text        NOT NULL,
    item_ids  jsonb       NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (pledge_id, round)
);
CREATE TABLE item_activity (   -- progress, follow-ups, done reports, confirmations, verdicts
    event_id  uuid PRIMARY KEY,
    pledge_id text        NOT NULL,
    item_id   text        NOT NULL,
    kind      text        NOT NULL,
    summary   text        NOT NULL,
    detail    jsonb       NOT NULL,
    actor     text        NOT NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX item_activity_item ON item_activity (item_id, at);
CREATE TABLE attached_files (  -- evidence files (shared/files.py) by the events that attach them
    sha256     text NOT NULL,
    event_id   uuid NOT NULL,
    pledge_id  text NOT NULL,
    item_id    text NOT NULL,
    media_type text NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (sha256, event_id)
);
CREATE TABLE quarterly_pushes (
    pledge_id  text NOT NULL,
    quarter    text NOT NULL,
    assessment text NOT NULL,
    next_steps text NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (pledge_id, quarter)
);
