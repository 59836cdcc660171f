-- Evidence files (issue 19, shared/files.py): content-addressed by the SHA-256 of the stored
-- bytes, never overwritten (the runtime role may only read and insert). The event that
-- attaches a file records its hash, size, type and name; these tables keep the bytes.
CREATE TABLE files (
    sha256        text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size          integer     NOT NULL CHECK (size > 0),
    media_type    text        NOT NULL,
    has_thumbnail boolean     NOT NULL,
    stored_in     text        NOT NULL CHECK (stored_in IN ('postgres', 's3')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The bytes, when kept in PostgreSQL (the default): the file's under its hash, its
-- thumbnail under '<hash>.thumbnail'.
CREATE TABLE file_blobs (
    key   text  PRIMARY KEY,
    bytes bytea NOT NULL
);

-- Who uploaded a file: a file is attached to a record by someone who uploaded it.
CREATE TABLE file_uploads (
    sha256      text        NOT NULL REFERENCES files (sha256),
    uploaded_by text        NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, uploaded_by)
);

CREATE FUNCTION reject_file_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'files are never overwritten: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER files_never_overwritten BEFORE UPDATE OR DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION reject_file_change();
CREATE TRIGGER file_blobs_never_overwritten BEFORE UPDATE OR DELETE ON file_blobs
    FOR EACH ROW EXECUTE FUNCTION reject_file_change();
