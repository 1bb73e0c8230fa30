-- The operators' console (docs/console.md): the one-time links /console gives an
-- operator. A link holds a random nonce; only its SHA-256 is kept, so that reading the
-- database does not let anyone in. Using a link marks it used in the same statement that
-- checks it (one winner, whichever worker serves the page). Expired links are pruned.
-- No foreign key: an operator's very first message may be /console, answered before the
-- turn that creates their row commits; their links go with them all the same (/forget,
-- the trigger below).
CREATE TABLE console_links (
    nonce_hash TEXT    PRIMARY KEY,
    admin_id   INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER
);
CREATE INDEX console_links_by_admin ON console_links(admin_id);
CREATE INDEX console_links_by_expiry ON console_links(expires_ms);

CREATE TRIGGER console_links_forget AFTER DELETE ON users
BEGIN
    DELETE FROM console_links WHERE admin_id = OLD.user_id;
END;
