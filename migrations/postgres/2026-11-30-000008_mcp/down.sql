DROP INDEX oauth_apps_dynamic;
ALTER TABLE oauth_tokens DROP COLUMN resource;
ALTER TABLE oauth_codes DROP COLUMN resource;
ALTER TABLE oauth_requests DROP COLUMN resource;
ALTER TABLE oauth_apps DROP COLUMN dynamic;
