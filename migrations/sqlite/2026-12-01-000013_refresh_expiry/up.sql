-- When a channel's refresh token ends, where the network says (TikTok's refresh_expires_in,
-- Pinterest's refresh_token_expires_in): the organization is warned a week before.
ALTER TABLE integrations ADD COLUMN refresh_expires_at TIMESTAMP;
