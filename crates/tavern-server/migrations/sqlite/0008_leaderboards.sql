-- Leaderboards and tournaments (a tournament is a leaderboard with a duration) and their records.
-- Times are unix seconds; a record's expiry_time is the end of the period it counts in (0: a board
-- that never resets). sort_order: 0 ascending, 1 descending; operator: 0 best, 1 set, 2 increment,
-- 3 decrement (Nakama's numbers). last_reset: the latest reset whose callbacks have run, so a
-- restart runs the ones it missed.
CREATE TABLE leaderboard (
    id             TEXT    PRIMARY KEY NOT NULL,
    authoritative  INTEGER NOT NULL DEFAULT 0,
    sort_order     INTEGER NOT NULL DEFAULT 1,
    operator       INTEGER NOT NULL DEFAULT 0,
    reset_schedule TEXT    NOT NULL DEFAULT '',
    metadata       TEXT    NOT NULL DEFAULT '{}',
    create_time    INTEGER NOT NULL,
    category       INTEGER NOT NULL DEFAULT 0,
    title          TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    duration       INTEGER NOT NULL DEFAULT 0,
    start_time     INTEGER NOT NULL DEFAULT 0,
    end_time       INTEGER NOT NULL DEFAULT 0,
    join_required  INTEGER NOT NULL DEFAULT 0,
    max_size       INTEGER NOT NULL DEFAULT 0,
    max_num_score  INTEGER NOT NULL DEFAULT 1000000,
    size           INTEGER NOT NULL DEFAULT 0,
    last_reset     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- One record per owner (a user, or any id server code uses) per board and period.
CREATE TABLE leaderboard_record (
    leaderboard_id TEXT    NOT NULL REFERENCES leaderboard (id) ON DELETE CASCADE,
    expiry_time    INTEGER NOT NULL,
    owner_id       TEXT    NOT NULL,
    username       TEXT,
    score          INTEGER NOT NULL,
    subscore       INTEGER NOT NULL,
    num_score      INTEGER NOT NULL DEFAULT 1,
    max_num_score  INTEGER NOT NULL DEFAULT 1000000,
    metadata       TEXT    NOT NULL DEFAULT '{}',
    create_time    INTEGER NOT NULL,
    update_time    INTEGER NOT NULL,
    PRIMARY KEY (leaderboard_id, expiry_time, owner_id)
) WITHOUT ROWID;
-- Pages in rank order, and the neighbours of a record.
CREATE INDEX leaderboard_record_rank_idx
    ON leaderboard_record (leaderboard_id, expiry_time, score, subscore, owner_id);
-- Everything of one owner (account deletion).
CREATE INDEX leaderboard_record_owner_idx ON leaderboard_record (owner_id);
