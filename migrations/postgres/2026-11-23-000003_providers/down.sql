DROP TABLE sandbox_posts;
DROP TABLE connect_states;
DROP TABLE provider_credentials;
DROP TABLE integrations;
DROP TABLE customers;
