DROP TABLE analytics_cache;
DROP TABLE idempotency_keys;
DROP TABLE api_rate;
DROP TABLE notifications;
DROP TABLE media;
DROP TABLE posts;
