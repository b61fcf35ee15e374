-- Nothing was added on PostgreSQL.
SELECT 1;
