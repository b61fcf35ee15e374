DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_requests;
DROP TABLE oauth_device_codes;
DROP TABLE oauth_grants;
DROP TABLE oauth_apps;
