-- Byte order (COLLATE "C") for ids, as on SQLite, so pages and ties order the same on both.
-- Leaderboards and tournaments (a tournament is a leaderboard with a duration) and their records.
-- Times are unix seconds; a record's expiry_time is the end of the period it counts in (0: a board
-- that never resets). sort_order: 0 ascending, 1 descending; operator: 0 best, 1 set, 2 increment,
-- 3 decrement (Nakama's numbers). last_reset: the latest reset whose callbacks have run, so a
-- restart runs the ones it missed.
CREATE TABLE leaderboard (
    id             TEXT    COLLATE "C" PRIMARY KEY NOT NULL,
    authoritative  BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order     BIGINT  NOT NULL DEFAULT 1,
    operator       BIGINT  NOT NULL DEFAULT 0,
    reset_schedule TEXT    NOT NULL DEFAULT '',
    metadata       TEXT    NOT NULL DEFAULT '{}',
    create_time    BIGINT  NOT NULL,
    category       BIGINT  NOT NULL DEFAULT 0,
    title          TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    duration       BIGINT  NOT NULL DEFAULT 0,
    start_time     BIGINT  NOT NULL DEFAULT 0,
    end_time       BIGINT  NOT NULL DEFAULT 0,
    join_required  BOOLEAN NOT NULL DEFAULT FALSE,
    max_size       BIGINT  NOT NULL DEFAULT 0,
    max_num_score  BIGINT  NOT NULL DEFAULT 1000000,
    size           BIGINT  NOT NULL DEFAULT 0,
    last_reset     BIGINT  NOT NULL DEFAULT 0
);

-- One record per owner (a user, or any id server code uses) per board and period.
CREATE TABLE leaderboard_record (
    leaderboard_id TEXT    COLLATE "C" NOT NULL REFERENCES leaderboard (id) ON DELETE CASCADE,
    expiry_time    BIGINT  NOT NULL,
    owner_id       TEXT    COLLATE "C" NOT NULL,
    username       TEXT,
    score          BIGINT  NOT NULL,
    subscore       BIGINT  NOT NULL,
    num_score      BIGINT  NOT NULL DEFAULT 1,
    max_num_score  BIGINT  NOT NULL DEFAULT 1000000,
    metadata       TEXT    NOT NULL DEFAULT '{}',
    create_time    BIGINT  NOT NULL,
    update_time    BIGINT  NOT NULL,
    PRIMARY KEY (leaderboard_id, expiry_time, owner_id)
);
-- Pages in rank order, and the neighbours of a record.
CREATE INDEX leaderboard_record_rank_idx
    ON leaderboard_record (leaderboard_id, expiry_time, score, subscore, owner_id);
-- Everything of one owner (account deletion).
CREATE INDEX leaderboard_record_owner_idx ON leaderboard_record (owner_id);
