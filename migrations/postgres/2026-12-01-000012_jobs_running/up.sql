-- Every claim counts the jobs running in each queue (leases not yet run out): an index on
-- (queue, locked_until) reads those few rows instead of the whole queue.
CREATE INDEX jobs_running ON jobs (queue, locked_until);
