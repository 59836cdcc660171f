-- The notification service's read models: built only from consumed events (kept in the
-- inbox) and its own events, so they rebuild (unqualified names; the rebuild picks the schema).
-- The board shows published data only: no raters, ballots, phone or ID numbers (N1).
CREATE TABLE board_counties (
    county_id text PRIMARY KEY,
    name      text NOT NULL
);
CREATE TABLE pledge_calendars (
    county_id         text    NOT NULL,
    year              integer NOT NULL,
    drafting_deadline date    NOT NULL,
    publication_deadline date,          -- P7: NULL for the pledge service's default
    PRIMARY KEY (county_id, year)
);
-- E4: the evaluation service's closing dates of the year's two rounds (EvaluationCalendarSet)
CREATE TABLE evaluation_calendars (
    county_id           text    NOT NULL,
    year                integer NOT NULL,
    first_round_closes  date    NOT NULL,
    second_round_closes date    NOT NULL,
    PRIMARY KEY (county_id, year)
);
CREATE TABLE board_pledges (
    pledge_id    text PRIMARY KEY,
    year         integer NOT NULL,
    pledger_kind text    NOT NULL,
    branch_id    text    NOT NULL,
    member_id    text,
    pledger_name text    NOT NULL,
    township_id  text    NOT NULL,
    county_id    text    NOT NULL,
    standard     text    NOT NULL,
    status       text    NOT NULL,  -- drafting, proposed, returned, approved, published
    letter_no    text,
    published_at timestamptz,
    drafted_late boolean NOT NULL DEFAULT false,  -- P6: approved after the drafting deadline
    -- not on the board: the branch secretary who entered the pledge's last draft or
    -- submission on the member's behalf (told too when it is returned, P4)
    entered_by   text
);
CREATE INDEX board_pledges_branch ON board_pledges (branch_id, year);
CREATE TABLE board_items (
    pledge_id      text    NOT NULL,
    item_id        text    NOT NULL,
    position       integer NOT NULL,
    title          text    NOT NULL,
    description    text    NOT NULL,
    category       text    NOT NULL,
    target         text    NOT NULL,
    due_date       date    NOT NULL,
    published      boolean NOT NULL DEFAULT false,
    percent        integer NOT NULL DEFAULT 0,
    progress       text,
    done_summary   text,
    solved_note    text,
    verified_note  text,
    verdict        text,
    satisfaction_rate double precision,
    closed_at      timestamptz,
    closed_because text[],          -- the passes that closed it (P10), as the pledge recorded
    open_reasons   text[],          -- why it is still open (P10), as the pledge recorded
    photos         jsonb   NOT NULL DEFAULT '[]',  -- progress photos' SHA-256 (pledge's files)
    PRIMARY KEY (pledge_id, item_id)
);
CREATE TABLE board_reviews (
    review_id     text PRIMARY KEY,
    township_id   text NOT NULL,
    branch_id     text,
    subject_kind  text NOT NULL,
    subject_id    text NOT NULL,
    subject_name  text NOT NULL,
    reviewer_name text NOT NULL,
    occasion      text NOT NULL,
    quarter       text NOT NULL,
    held_on       date NOT NULL,
    corrected_by  text
);
CREATE INDEX board_reviews_branch ON board_reviews (branch_id);
CREATE TABLE board_journals (
    entry_id    text PRIMARY KEY,
    township_id text NOT NULL,
    branch_id   text NOT NULL,
    member_id   text NOT NULL,
    month       text NOT NULL
);
-- P11: the quarters each pledge was pushed forward in (QuarterlyPushRecorded)
CREATE TABLE board_pushes (
    pledge_id text NOT NULL,
    quarter   text NOT NULL,
    PRIMARY KEY (pledge_id, quarter)
);
CREATE TABLE board_presentations (
    member_id   text NOT NULL,
    month       text NOT NULL,
    township_id text NOT NULL,
    branch_id   text NOT NULL,
    evaluation  text NOT NULL,
    PRIMARY KEY (member_id, month)
);
-- R1: the leaders the township office assigned to each branch now (the review service's
-- LeaderAssigned, LeaderUnassigned): chased beside the head for its missing reviews (N3)
CREATE TABLE branch_leaders (
    branch_id   text NOT NULL,
    leader_id   text NOT NULL,
    township_id text NOT NULL,
    PRIMARY KEY (branch_id, leader_id)
);
CREATE TABLE board_visits (
    visit_id    text PRIMARY KEY,
    township_id text NOT NULL,
    branch_id   text NOT NULL,
    cadre_name  text NOT NULL,
    visited_on  date NOT NULL,
    summary     text NOT NULL,
    cadre_id    text              -- absent from visits recorded before (then by name)
);
CREATE TABLE board_rounds (
    round_id     text PRIMARY KEY,
    township_id  text  NOT NULL,
    title        text  NOT NULL,
    published_on date  NOT NULL,
    results      jsonb NOT NULL
);
CREATE TABLE board_ratings (
    rating_id    text PRIMARY KEY,
    township_id  text  NOT NULL,
    branch_id    text,
    period       text  NOT NULL,
    level        text  NOT NULL,
    published_on date  NOT NULL,
    results      jsonb NOT NULL
);
CREATE TABLE board_commendations (
    selection_id text PRIMARY KEY,
    township_id  text    NOT NULL,
    year         integer NOT NULL,
    title        text    NOT NULL,
    issued_on    date    NOT NULL,
    -- each with the reasons people wrote (contracts.Awardee: never one generated from a score)
    awardees     jsonb   NOT NULL,
    level        text    NOT NULL  -- the township's own, or a branch's selection (S1)
);
-- S3: a selection's public notice, its finalists' names (from their nominations) and the
-- objections by finalist; the notice leaves the board when the commendation is issued
CREATE TABLE board_selections (
    selection_id text PRIMARY KEY,
    township_id  text    NOT NULL,
    year         integer NOT NULL,
    title        text    NOT NULL,
    subject_kind text    NOT NULL
);
CREATE TABLE board_candidates (
    selection_id text NOT NULL,
    subject_id   text NOT NULL,
    subject_name text NOT NULL,
    branch_id    text,
    PRIMARY KEY (selection_id, subject_id)
);
CREATE TABLE board_notices (
    selection_id text PRIMARY KEY,
    posted_on    date  NOT NULL,
    notice_until date  NOT NULL,
    finalists    jsonb NOT NULL
);
CREATE TABLE board_objections (
    objection_id text PRIMARY KEY,
    selection_id text NOT NULL,
    subject_id   text NOT NULL,
    upheld       boolean            -- NULL until answered
);
-- X2: every published item as an immutable release, in log order (inbox or log position).
CREATE TABLE releases (
    position    bigint PRIMARY KEY,
    id          uuid        NOT NULL UNIQUE,
    time        timestamptz NOT NULL,
    type        text        NOT NULL,
    county_id   text,
    township_id text        NOT NULL,
    subject     text        NOT NULL,
    content     jsonb       NOT NULL
);
CREATE TABLE calendars (
    county_id text    NOT NULL,
    year      integer NOT NULL,
    deadlines jsonb   NOT NULL,
    PRIMARY KEY (county_id, year)
);
CREATE TABLE notices (
    notice_id   text PRIMARY KEY,
    stream_id   text        NOT NULL,
    county_id   text        NOT NULL,
    township_id text        NOT NULL,
    deadline_id text        NOT NULL,
    kind        text        NOT NULL,
    recipient   text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    due_on      date        NOT NULL,
    issued_at   timestamptz NOT NULL,
    read_at     timestamptz
);
CREATE INDEX notices_recipient ON notices (recipient, issued_at);
CREATE TABLE channels (
    channel_id    text PRIMARY KEY,
    county_id     text    NOT NULL,
    township_id   text,
    kind          text    NOT NULL,
    name          text    NOT NULL,
    shown_as      text    NOT NULL,
    signed        boolean NOT NULL,
    release_types jsonb   NOT NULL,
    active        boolean NOT NULL
);
CREATE TABLE deliveries (
    delivery_id     text PRIMARY KEY,
    channel_id      text        NOT NULL,
    township_id     text        NOT NULL,
    release_id      text        NOT NULL,
    release_type    text        NOT NULL,
    subject         text        NOT NULL,
    content         jsonb       NOT NULL,
    status          text        NOT NULL,  -- pending, delivered, dead
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz,
    last_error      text,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE bulletins (
    bulletin_id text PRIMARY KEY,
    township_id text        NOT NULL,
    county_id   text        NOT NULL,
    period      text        NOT NULL,
    regular     boolean     NOT NULL,
    title       text        NOT NULL,
    issued_on   date        NOT NULL,
    note        text        NOT NULL,
    branches    jsonb       NOT NULL,
    guidance    jsonb       NOT NULL,  -- per leading cadre: which branch, how often
    publicity   jsonb       NOT NULL   -- what the township itself published in the period
);
-- a person's phone for SMS notices (N5), as the event carries it: sealed with the person's
-- key (A7), opened only by the delivery pass that sends to it
CREATE TABLE contacts (
    person_id   text PRIMARY KEY,
    county_id   text  NOT NULL,
    township_id text  NOT NULL,
    phone       jsonb NOT NULL
);
