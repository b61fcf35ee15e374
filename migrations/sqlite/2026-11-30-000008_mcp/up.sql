-- Apps that registered themselves (RFC 7591, what MCP clients do), and the resource (RFC 8707)
-- a pending request, a code and a token are bound to: `{PUBLIC_URL}/mcp` or
-- `{PUBLIC_URL}/public/v1`; none means every resource, as before.
ALTER TABLE oauth_apps ADD COLUMN dynamic BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE oauth_requests ADD COLUMN resource TEXT;
ALTER TABLE oauth_codes ADD COLUMN resource TEXT;
ALTER TABLE oauth_tokens ADD COLUMN resource TEXT;
CREATE INDEX oauth_apps_dynamic ON oauth_apps (dynamic, created_at);
