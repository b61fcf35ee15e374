DROP TABLE auth_throttle;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE members;
DROP TABLE organizations;
DROP TABLE users;
