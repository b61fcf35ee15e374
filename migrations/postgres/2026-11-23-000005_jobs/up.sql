-- The job queue. A worker claims due jobs by taking a lease (locked_by, locked_until) in a
-- committed transaction before doing any network call; a lease that runs out means the worker
-- died. `payload` (JSON) records progress, including the step being sent, so a crash in the
-- middle of a publish is reported instead of repeated.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    queue TEXT NOT NULL,
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, subject_id)
);
CREATE INDEX jobs_due ON jobs (run_at);
