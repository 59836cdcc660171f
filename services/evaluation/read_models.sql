-- The evaluation service's read models: disposable, rebuilt from the log and the inbox
-- (unqualified names; the rebuild picks the schema). The directory copy (dir_*) is added
-- from shared/directory.py. No table links a ballot to a rater (E3).
CREATE TABLE calendars (
    county_id           text    NOT NULL,
    year                integer NOT NULL,
    first_round_closes  date    NOT NULL,
    second_round_closes date    NOT NULL,
    PRIMARY KEY (county_id, year)
);
CREATE TABLE rounds (
    round_id       text PRIMARY KEY,
    township_id    text    NOT NULL,
    organiser_kind text    NOT NULL,
    organiser_id   text    NOT NULL,
    title          text    NOT NULL,
    year           integer NOT NULL,
    half           integer NOT NULL,
    content        jsonb   NOT NULL,
    scale          jsonb   NOT NULL,
    opens_on       date    NOT NULL,
    closes_on      date    NOT NULL,
    status         text    NOT NULL,
    closed_on      date,
    held_with      text                -- E4: e.g. the secretary's annual report
);
CREATE INDEX rounds_township ON rounds (township_id);
CREATE TABLE round_subjects (
    round_id     text    NOT NULL,
    subject_id   text    NOT NULL,
    position     integer NOT NULL,
    subject_kind text    NOT NULL,
    subject_name text    NOT NULL,
    branch_id    text    NOT NULL,
    PRIMARY KEY (round_id, subject_id)
);
-- participation: who is registered and who has voted (never what they chose)
CREATE TABLE round_raters (
    round_id        text    NOT NULL,
    rater_id        text    NOT NULL,
    rater_kind      text    NOT NULL,
    organisation_id text    NOT NULL,
    member_id       text,
    voted           boolean NOT NULL,
    channels        text[]  NOT NULL,
    -- a public rater's personal data (A7) only as the event carries it, sealed with the
    -- person's key ({"person", "sealed"}): the organiser's read opens and masks it; gone once
    -- erased (and unreadable anyway: the key is destroyed)
    personal        jsonb,
    erased          boolean NOT NULL,
    PRIMARY KEY (round_id, rater_id)
);
CREATE INDEX round_raters_rater ON round_raters (rater_id);
-- each participation the log holds, one row per subject, for the audit against the ballots
-- (E3): who and on what, never the grade; no key, so a forged repeat is kept and reported
CREATE TABLE round_participations (
    round_id   text    NOT NULL,
    rater_id   text    NOT NULL,
    subject_id text    NOT NULL,
    channel    text    NOT NULL,
    registered boolean NOT NULL  -- the rater was registered for the round before this
);
CREATE INDEX round_participations_round ON round_participations (round_id, subject_id);
-- ballots: counts per grade (what was chosen, never by whom)
CREATE TABLE round_tally (
    round_id   text    NOT NULL,
    subject_id text    NOT NULL,
    grade      text    NOT NULL,
    n          integer NOT NULL,
    PRIMARY KEY (round_id, subject_id, grade)
);
CREATE TABLE round_ballot_tokens (
    round_id   text NOT NULL,
    token_hash text NOT NULL,
    PRIMARY KEY (round_id, token_hash)
);
CREATE TABLE round_publications (
    round_id     text PRIMARY KEY,
    township_id  text  NOT NULL,
    title        text  NOT NULL,
    published_on date  NOT NULL,
    results      jsonb NOT NULL
);
CREATE TABLE check_terms (
    county_id   text             NOT NULL,
    year        integer          NOT NULL,
    threshold   double precision NOT NULL,
    window_days integer          NOT NULL,
    PRIMARY KEY (county_id, year)
);
CREATE TABLE checks (
    check_id          text PRIMARY KEY,
    pledge_id         text    NOT NULL,
    item_id           text    NOT NULL,
    township_id       text    NOT NULL,
    title             text    NOT NULL,
    summary           text    NOT NULL,
    threshold         double precision NOT NULL,
    opens_on          date    NOT NULL,
    closes_on         date    NOT NULL,
    source_event_id   text    NOT NULL,
    status            text    NOT NULL,
    verdict           text,
    satisfaction_rate double precision,
    ballots           integer
);
CREATE INDEX checks_item ON checks (item_id);
CREATE TABLE check_raters (
    check_id  text    NOT NULL,
    rater_id  text    NOT NULL,
    member_id text,
    voted     boolean NOT NULL,
    channel   text,
    personal  jsonb,    -- a member of the public's, sealed, as round_raters (A7)
    erased    boolean NOT NULL,
    PRIMARY KEY (check_id, rater_id)
);
-- each participation in a check, as round_participations (E3 audit)
CREATE TABLE check_participations (
    check_id   text    NOT NULL,
    rater_id   text    NOT NULL,
    channel    text    NOT NULL,
    registered boolean NOT NULL
);
CREATE INDEX check_participations_check ON check_participations (check_id);
CREATE TABLE check_tally (
    check_id text    NOT NULL,
    grade    text    NOT NULL,
    n        integer NOT NULL,
    PRIMARY KEY (check_id, grade)
);
CREATE TABLE ratings (
    rating_id    text PRIMARY KEY,
    township_id  text  NOT NULL,
    branch_id    text,
    period       text  NOT NULL,
    level        text  NOT NULL,
    published_on date  NOT NULL,
    results      jsonb NOT NULL
);
CREATE INDEX ratings_township ON ratings (township_id, period);
-- copies of other services' records the selection scores from (S2)
CREATE TABLE pledge_copy (
    pledge_id   text PRIMARY KEY,
    year        integer NOT NULL,
    subject_id  text    NOT NULL,
    township_id text    NOT NULL,
    item_ids    jsonb
);
CREATE INDEX pledge_copy_subject ON pledge_copy (subject_id, year);
CREATE TABLE pledge_items_closed (
    pledge_id text NOT NULL,
    item_id   text NOT NULL,
    closed_at timestamptz NOT NULL,  -- when it closed: the data window counts it (S2)
    PRIMARY KEY (pledge_id, item_id)
);
CREATE TABLE review_copy (
    review_id   text PRIMARY KEY,
    township_id text    NOT NULL,
    subject_id  text    NOT NULL,
    quarter     text    NOT NULL,
    held_on     date    NOT NULL,  -- the data window counts it by this day (S2)
    superseded  boolean NOT NULL,
    grades      jsonb   NOT NULL  -- dimension -> grade (R3)
);
CREATE INDEX review_copy_subject ON review_copy (subject_id, quarter);
-- the annual selection (S1–S3)
CREATE TABLE selections (
    selection_id    text PRIMARY KEY,
    township_id     text    NOT NULL,
    year            integer NOT NULL,
    title           text    NOT NULL,
    subject_kind    text    NOT NULL,
    notice_days     integer NOT NULL,
    commendation_on date    NOT NULL,
    formula_version integer,
    stages_scored   integer NOT NULL,
    posted_on       date,
    notice_until    date,
    finalists       jsonb,
    issued_on       date,
    level           text    NOT NULL,  -- township, county or branch (S1)
    organisation_id text    NOT NULL   -- the township, county or branch holding it
);
CREATE TABLE selection_formulas (
    selection_id text    NOT NULL,
    version      integer NOT NULL,
    formula      jsonb   NOT NULL,
    PRIMARY KEY (selection_id, version)
);
CREATE TABLE selection_candidates (
    selection_id text NOT NULL,
    subject_id   text NOT NULL,
    subject_name text NOT NULL,
    branch_id    text NOT NULL,
    nominated_by text NOT NULL,
    reason       text NOT NULL,
    PRIMARY KEY (selection_id, subject_id)
);
CREATE TABLE selection_stages (
    selection_id    text    NOT NULL,
    stage           integer NOT NULL,
    formula_version integer NOT NULL,
    scored_on       date    NOT NULL,
    candidates      jsonb   NOT NULL,
    decided_by      text,
    decided_on      date,
    decisions       jsonb   NOT NULL,
    PRIMARY KEY (selection_id, stage)
);
CREATE TABLE selection_objections (
    selection_id text    NOT NULL,
    objection_id text PRIMARY KEY,
    subject_id   text    NOT NULL,
    summary      text    NOT NULL,
    answer       text,
    upheld       boolean,
    in_person    boolean NOT NULL, -- recorded by the office for someone who came in person
    township_id  text              -- the township filing a county selection's objection
);
CREATE TABLE commendations (
    selection_id text PRIMARY KEY,
    township_id  text    NOT NULL,
    year         integer NOT NULL,
    title        text    NOT NULL,
    issued_on    date    NOT NULL,
    awardees     jsonb   NOT NULL,
    level        text    NOT NULL  -- township, county or branch (S1)
);
-- invitations to vote (issue 17): per rater, how many they were given and how the latest
-- went; never a code (only its hash is kept, beside the log:
-- migrations/0001_invitations_urn.sql)
CREATE TABLE invitations_issued (
    scope_id    text    NOT NULL,
    rater_id    text    NOT NULL,
    scope       text    NOT NULL,
    issued      integer NOT NULL,
    -- the rater's latest invitation (a reissue voids the code before): sent by SMS and its
    -- text accepted ('sent') or refused ('refused'), or on paper only (null)
    last_sms    text,
    PRIMARY KEY (scope_id, rater_id)
);
-- erasures of a member of the public's personal data (A7): who erased whose, and when (the
-- event's actor and time); no personal data
CREATE TABLE erasures (
    person_id  text PRIMARY KEY,
    erased_at  timestamptz NOT NULL,
    actor      text        NOT NULL,
    actor_role text        NOT NULL
);
