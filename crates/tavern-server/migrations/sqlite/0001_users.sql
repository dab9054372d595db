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
    email                    TEXT,
    password                 TEXT,
    custom_id                TEXT,
    facebook_id              TEXT,
    facebook_instant_game_id TEXT,
    google_id                TEXT,
    gamecenter_id            TEXT,
    steam_id                 TEXT,
    apple_id                 TEXT,
    edge_count               INTEGER NOT NULL DEFAULT 0,
    create_time              INTEGER NOT NULL,
    update_time              INTEGER NOT NULL,
    verify_time              INTEGER NOT NULL DEFAULT 0,
    disable_time             INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Optional identities are unique when present; partial indexes skip the many NULLs.
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_custom_id_key ON users (custom_id) WHERE custom_id IS NOT NULL;
CREATE UNIQUE INDEX users_facebook_id_key ON users (facebook_id) WHERE facebook_id IS NOT NULL;
CREATE UNIQUE INDEX users_facebook_instant_game_id_key ON users (facebook_instant_game_id) WHERE facebook_instant_game_id IS NOT NULL;
CREATE UNIQUE INDEX users_google_id_key ON users (google_id) WHERE google_id IS NOT NULL;
CREATE UNIQUE INDEX users_gamecenter_id_key ON users (gamecenter_id) WHERE gamecenter_id IS NOT NULL;
CREATE UNIQUE INDEX users_steam_id_key ON users (steam_id) WHERE steam_id IS NOT NULL;
CREATE UNIQUE INDEX users_apple_id_key ON users (apple_id) WHERE apple_id IS NOT NULL;

CREATE TABLE user_device (
    id      TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_device_user_id_idx ON user_device (user_id);

-- The system user owns server-side objects (storage, groups, leaderboards) as in Nakama.
INSERT INTO users (id, username, create_time, update_time)
VALUES ('00000000-0000-0000-0000-000000000000', '', 0, 0);
