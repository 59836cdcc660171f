-- Imports from workbooks (issue 19): each uploaded file, its checked rows and the preview of
-- what it will do, until an importer confirms it. Beside the log, not a read model: what a
-- confirmed import did is in the log as the owning service's own events; this table only
-- says which file led to them (and keeps a file that was never confirmed out of the log).
-- One row per file (by its SHA-256), importer and target: the same file twice is the same
-- import, and confirming it again appends nothing.
CREATE TABLE imports (
    import_id    text PRIMARY KEY,
    kind         text        NOT NULL,   -- roster, raters, ballots, ratings
    scope_id     text        NOT NULL,   -- the township, county, round or check it is for
    importer     text        NOT NULL,   -- the principal's subject
    file_sha256  text        NOT NULL,
    file_name    text        NOT NULL,
    file         bytea,                  -- the bytes as uploaded; NULL once not needed
    state        text        NOT NULL
        CHECK (state IN ('invalid', 'ready', 'committing', 'committed', 'failed')),
    rows_total   integer     NOT NULL DEFAULT 0,
    rows_done    integer     NOT NULL DEFAULT 0,   -- progress while committing
    preview      jsonb       NOT NULL,   -- what will happen, as the owning service's events
    errors       jsonb       NOT NULL,   -- [{sheet, row, column, reason}], reasons in Chinese
    basis        text        NOT NULL,   -- fingerprint of the state the preview was made on
    appended     integer,                -- events appended by the commit
    created_at   timestamptz NOT NULL,
    committed_at timestamptz,
    UNIQUE (kind, scope_id, importer, file_sha256)
);
CREATE INDEX imports_scope ON imports (kind, scope_id, created_at);
