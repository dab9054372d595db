-- Accounts and the identities that log into them.
-- Ids are UUID text; times are unix seconds (0 = never), the same on SQLite and PostgreSQL.
CREATE TABLE users (
    id                       TEXT    PRIMARY KEY NOT NULL,
    username                 TEXT    NOT NULL UNIQUE,
    display_name             TEXT,
    avatar_url               TEXT,
    lang_tag                 TEXT    NOT NULL DEFAULT 'en',
    location                 TEXT,
    timezone                 TEXT,
    metadata                 TEXT    NOT NULL DEFAULT '{}',
    wallet                   TEXT    NOT NULL DEFAULT '{}',
    email                    TEXT    UNIQUE,
    password                 TEXT,
    custom_id                TEXT    UNIQUE,
    facebook_id              TEXT    UNIQUE,
    facebook_instant_game_id TEXT    UNIQUE,
    google_id                TEXT    UNIQUE,
    gamecenter_id            TEXT    UNIQUE,
    steam_id                 TEXT    UNIQUE,
    apple_id                 TEXT    UNIQUE,
    edge_count               INTEGER NOT NULL DEFAULT 0,
    create_time              INTEGER NOT NULL,
    update_time              INTEGER NOT NULL,
    verify_time              INTEGER NOT NULL DEFAULT 0,
    disable_time             INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE user_device (
    id      TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX user_device_user_id_idx ON user_device (user_id);

-- The system user owns server-side objects (storage, groups, leaderboards) as in Nakama.
INSERT INTO users (id, username, create_time, update_time)
VALUES ('00000000-0000-0000-0000-000000000000', '', 0, 0);
