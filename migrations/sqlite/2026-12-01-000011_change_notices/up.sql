-- On PostgreSQL this step adds the triggers that announce changes to other instances
-- (NOTIFY socialgate_changes). An SQLite database has one server, which moves its own caches.
SELECT 1;
