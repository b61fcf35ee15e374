-- Posts: one group per channel and request; the root has no parent, comments chain through
-- parent_post_id. Content is sanitized HTML; image and settings are JSON text.
CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    parent_post_id TEXT,
    position INTEGER NOT NULL,
    content TEXT NOT NULL,
    image TEXT NOT NULL,
    settings TEXT NOT NULL,
    tags TEXT NOT NULL,
    publish_date TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('QUEUE', 'PUBLISHED', 'ERROR', 'DRAFT')),
    delay_minutes INTEGER NOT NULL,
    interval_days INTEGER,
    release_id TEXT,
    release_url TEXT,
    release_reference TEXT,
    error TEXT,
    creation_method TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX posts_organization_date ON posts (organization_id, publish_date);
CREATE INDEX posts_group ON posts (group_id);

-- Uploaded media. `storage_key` is where the bytes are; `path` the public URL.
CREATE TABLE media (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    original_name TEXT,
    path TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX media_organization ON media (organization_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    link TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_organization ON notifications (organization_id, created_at);

-- Fixed-window request counters, shared by every instance.
CREATE TABLE api_rate (
    key TEXT PRIMARY KEY NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    count INTEGER NOT NULL
);

-- Idempotency-Key records: the first answer, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    response TEXT,
    created_at TIMESTAMP NOT NULL
);

-- Provider analytics kept for an hour.
CREATE TABLE analytics_cache (
    key TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
