CREATE TABLE oauth_apps (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    picture_url TEXT,
    picture_type TEXT,
    picture_data BLOB,
    redirect_uris TEXT NOT NULL,
    first_party BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_apps_organization ON oauth_apps (organization_id);

CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    UNIQUE (app_id, user_id, organization_id)
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);

CREATE TABLE oauth_device_codes (
    id TEXT PRIMARY KEY NOT NULL,
    device_code_hash TEXT NOT NULL UNIQUE,
    user_code_hash TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'spent')),
    grant_id TEXT REFERENCES oauth_grants (id) ON DELETE CASCADE,
    interval_seconds INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_polled_at TIMESTAMP
);

CREATE TABLE oauth_requests (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    redirect_uri TEXT,
    redirect_uri_sent BOOLEAN NOT NULL,
    state TEXT,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    device_code_id TEXT REFERENCES oauth_device_codes (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE TABLE oauth_codes (
    id TEXT PRIMARY KEY NOT NULL,
    code_hash TEXT NOT NULL UNIQUE,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    redirect_uri_sent BOOLEAN NOT NULL,
    code_challenge TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);

CREATE TABLE oauth_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_id TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_code ON oauth_tokens (code_id);

-- The built-in first-party client behind device login (the command line, agents).
INSERT INTO oauth_apps (id, organization_id, client_id, client_secret_hash, name, description, picture_url,
    picture_type, picture_data, redirect_uris, first_party, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000000000001', NULL, 'socialgate-cli', NULL, 'socialgate CLI',
    'The socialgate command line and AI agents that sign in with a device code.', NULL, NULL, NULL, '[]', TRUE,
    CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
