-- Which master key seals this database's values: its public id and a check value derived from
-- it (HMAC of a fixed text), never the key. One row; servers and admin commands refuse to run
-- with another key.
CREATE TABLE master_key (
    id TEXT PRIMARY KEY NOT NULL,
    check_value TEXT NOT NULL,
    bound_at TIMESTAMP NOT NULL
);
