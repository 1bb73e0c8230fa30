-- The operators' console's one-time links: as SQLite's migration 0011.
CREATE TABLE console_links (
    nonce_hash text   PRIMARY KEY,
    admin_id   bigint NOT NULL,
    expires_ms bigint NOT NULL,
    used_ms    bigint
);
CREATE INDEX console_links_by_admin ON console_links(admin_id);
CREATE INDEX console_links_by_expiry ON console_links(expires_ms);

CREATE FUNCTION console_links_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM console_links WHERE admin_id = OLD.user_id;
    RETURN NULL;
END $$;
CREATE TRIGGER console_links_forget AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION console_links_forget();
