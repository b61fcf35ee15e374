ALTER TABLE integrations DROP COLUMN expiry_warned_at;
