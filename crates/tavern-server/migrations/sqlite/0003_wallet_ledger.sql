-- The wallet ledger: one entry per wallet change made with the ledger asked for. The wallet itself
-- is `users.wallet` (a JSON object of integer balances). `seq` orders entries (newest first) within
-- the same second and is the listing cursor.
CREATE TABLE wallet_ledger (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    changeset   TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE INDEX wallet_ledger_user_seq_idx ON wallet_ledger (user_id, seq);
