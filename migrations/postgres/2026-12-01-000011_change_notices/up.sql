-- Changes that instances keep caches of are announced on the channel socialgate_changes when
-- they commit (db/notices.rs listens):
-- * 'credentials': a token or API key revoked, changed or deleted (directly or by a cascade from
--   its grant, app, user or organization), or a membership removed or moved. Every instance
--   stops trusting the tokens and keys it resolved before.
-- * 'channels:<organization id>': a channel or customer of that organization added, changed
--   or removed, so rendered channel lists of it are made again.
-- PostgreSQL sends one notice per distinct payload per transaction, however many rows change.
CREATE FUNCTION socialgate_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('socialgate_changes', 'credentials');
    RETURN NULL;
END
$$;

CREATE FUNCTION socialgate_channels_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('socialgate_changes', 'channels:' || OLD.organization_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('socialgate_changes', 'channels:' || NEW.organization_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER token_changed AFTER UPDATE ON oauth_tokens FOR EACH ROW
WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
    OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.app_id IS DISTINCT FROM NEW.app_id
    OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
    OR OLD.resource IS DISTINCT FROM NEW.resource)
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER token_deleted AFTER DELETE ON oauth_tokens FOR EACH STATEMENT
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER member_changed AFTER UPDATE ON members FOR EACH ROW
WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.organization_id IS DISTINCT FROM NEW.organization_id)
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER member_removed AFTER DELETE ON members FOR EACH STATEMENT
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER api_key_changed AFTER UPDATE ON api_keys FOR EACH ROW
WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.key_hash IS DISTINCT FROM NEW.key_hash
    OR OLD.organization_id IS DISTINCT FROM NEW.organization_id)
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER api_key_deleted AFTER DELETE ON api_keys FOR EACH STATEMENT
EXECUTE FUNCTION socialgate_credentials_changed();

CREATE TRIGGER channel_changed AFTER INSERT OR DELETE ON integrations FOR EACH ROW
EXECUTE FUNCTION socialgate_channels_changed();

CREATE TRIGGER channel_updated AFTER UPDATE ON integrations FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.picture IS DISTINCT FROM NEW.picture
    OR OLD.profile IS DISTINCT FROM NEW.profile OR OLD.provider IS DISTINCT FROM NEW.provider
    OR OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
    OR OLD.created_at IS DISTINCT FROM NEW.created_at)
EXECUTE FUNCTION socialgate_channels_changed();

CREATE TRIGGER customer_changed AFTER INSERT OR UPDATE OR DELETE ON customers FOR EACH ROW
EXECUTE FUNCTION socialgate_channels_changed();
