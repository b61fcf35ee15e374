-- On SQLite this step adds the triggers behind the revocation signal (db/revocations.rs), which
-- lets a server keep resolved tokens in memory. PostgreSQL deployments may run several
-- instances and ask the database on every request, so there is nothing to add here.
SELECT 1;
