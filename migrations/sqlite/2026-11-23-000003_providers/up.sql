CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name)
);

-- Channels ("integrations" in Postiz). Tokens are sealed with the vault (AES-256-GCM, key id).
CREATE TABLE integrations (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    internal_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    name TEXT NOT NULL,
    picture TEXT,
    profile TEXT,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    token_expires_at TIMESTAMP,
    instance_url TEXT,
    disabled BOOLEAN NOT NULL,
    refresh_needed BOOLEAN NOT NULL,
    in_between_steps BOOLEAN NOT NULL,
    posting_times TEXT NOT NULL,
    customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL,
    additional_settings TEXT NOT NULL,
    root_internal_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    UNIQUE (organization_id, internal_id)
);

-- Per-organization provider app credentials; client id and secret are sealed.
CREATE TABLE provider_credentials (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    redirect_uri TEXT,
    instance_url TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, provider)
);

-- Connect flows in progress: single use, one hour. `secret` (sealed) is the PKCE verifier or
-- the OAuth 1.0a request-token secret. `started_by` is the user whose browser session started
-- the flow; the callback then requires that session.
CREATE TABLE connect_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    secret TEXT,
    refresh_integration_id TEXT,
    return_url TEXT,
    started_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- What the built-in sandbox network "published".
CREATE TABLE sandbox_posts (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    text TEXT NOT NULL,
    media TEXT NOT NULL,
    reply_to TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sandbox_posts_organization ON sandbox_posts (organization_id, created_at);
