-- When the organization was told that a channel without a refresh token must be reconnected
-- before its token expires (once per token).
ALTER TABLE integrations ADD COLUMN expiry_warned_at TIMESTAMP;
