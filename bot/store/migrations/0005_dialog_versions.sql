-- Every dialog set the bot served, so that `vie-coach rollback` can bring one back: its
-- files once per version (JSON {"welcome.yaml": text, ...}), and each time it began to be
-- served (at start-up, on a reload; a rollback is served by the reload it asks for).
CREATE TABLE dialog_files (
    version TEXT PRIMARY KEY,
    files   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE dialog_served (
    id        INTEGER PRIMARY KEY,
    version   TEXT    NOT NULL REFERENCES dialog_files(version),
    served_ms INTEGER NOT NULL,
    reason    TEXT    NOT NULL
);
