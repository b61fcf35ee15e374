DROP TRIGGER member_removed;
DROP TRIGGER member_changed;
DROP TRIGGER token_deleted;
DROP TRIGGER token_changed;
