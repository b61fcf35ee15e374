DROP INDEX jobs_running;
