-- Every change that can end an access token's life calls socialgate_token_ended(), which every
-- connection of ours registers (db/revocations.rs): a token revoked, changed or deleted
-- (directly or by a cascade from its grant, app, user or organization), and a membership removed
-- or moved. After the change commits, the process moves the revocation signal that in-memory
-- token caches check on every request, so a revocation takes effect on the very next request.
CREATE TRIGGER token_changed AFTER UPDATE ON oauth_tokens
WHEN OLD.revoked_at IS NOT NEW.revoked_at OR OLD.token_hash IS NOT NEW.token_hash
    OR OLD.scopes IS NOT NEW.scopes OR OLD.app_id IS NOT NEW.app_id
    OR OLD.user_id IS NOT NEW.user_id OR OLD.organization_id IS NOT NEW.organization_id
BEGIN
    SELECT socialgate_token_ended();
END;

CREATE TRIGGER token_deleted AFTER DELETE ON oauth_tokens
BEGIN
    SELECT socialgate_token_ended();
END;

CREATE TRIGGER member_changed AFTER UPDATE ON members
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.organization_id IS NOT NEW.organization_id
BEGIN
    SELECT socialgate_token_ended();
END;

CREATE TRIGGER member_removed AFTER DELETE ON members
BEGIN
    SELECT socialgate_token_ended();
END;
