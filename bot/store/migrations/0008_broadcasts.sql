-- /broadcast: a message to everyone, written by an operator in Telegram, sent as a
-- durable job (docs/broadcast.md).
--
-- broadcast_drafts: what an operator has written so far, one draft each, until it is
-- sent or dropped. Erased with the operator (/forget).
CREATE TABLE broadcast_drafts (
    admin_id   INTEGER PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    texts      TEXT    NOT NULL,  -- JSON {lang: template}; a language absent: the first's
    updated_ms INTEGER NOT NULL
);

-- broadcasts: one row per job. It names nobody: who receives it is in
-- broadcast_recipients, who wrote it is not kept.
CREATE TABLE broadcasts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    texts        TEXT    NOT NULL,  -- JSON {lang: template}
    default_lang TEXT    NOT NULL,  -- whose text goes to a language without one
    state        TEXT    NOT NULL,  -- running, paused, done, cancelled
    per_second   REAL    NOT NULL,  -- the pace it was started with (for the ETA)
    total        INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL,
    finished_ms  INTEGER            -- done or cancelled
);
CREATE INDEX broadcasts_active ON broadcasts(state) WHERE state IN ('running', 'paused');

-- broadcast_recipients: the people a job reaches, taken in the same transaction as the
-- job (opted in, not blocked). state: waiting -> queued (its row is in the outbox, put
-- there in the same transaction) -> sent | blocked | refused; skipped: blocked the bot
-- or stopped reminders before their turn came. /forget removes the person's row.
CREATE TABLE broadcast_recipients (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
    state        TEXT    NOT NULL DEFAULT 'waiting',
    PRIMARY KEY (broadcast_id, user_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_todo ON broadcast_recipients(broadcast_id, state, user_id);
CREATE INDEX broadcast_by_user ON broadcast_recipients(user_id);  -- the cascade's look-up

-- How much background work waits in the outbox (reminders, alerts, broadcasts): the
-- broadcaster adds rows only while it is small.
CREATE INDEX outbox_background ON outbox(kind) WHERE kind IN ('nudge', 'broadcast');

-- A broadcast row leaving the outbox without being dropped was accepted by Telegram:
-- its recipient is sent. (A drop marks the recipient blocked or refused first, in the
-- same transaction, so that this finds it no longer queued; /forget removes the
-- recipient before the row.)
CREATE TRIGGER broadcast_delivered AFTER DELETE ON outbox WHEN OLD.kind = 'broadcast'
BEGIN
    UPDATE broadcast_recipients SET state = 'sent'
    WHERE broadcast_id = json_extract(OLD.body, '$.broadcast') AND user_id = OLD.chat_id
      AND state = 'queued';
END;
