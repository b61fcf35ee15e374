ALTER TABLE integrations DROP COLUMN refresh_expires_at;
