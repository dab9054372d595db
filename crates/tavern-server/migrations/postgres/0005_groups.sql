-- Groups (clans, guilds) and their members. A group's state is 0 open, 1 closed; edge_count
-- counts its superadmins, admins and members (not join requests or bans) and never exceeds
-- max_count. Ids are UUID text, times unix seconds, as in every table.
CREATE TABLE groups (
    id           TEXT    PRIMARY KEY NOT NULL,
    creator_id   TEXT    NOT NULL,
    name         TEXT    NOT NULL CONSTRAINT groups_name_key UNIQUE,
    description  TEXT,
    avatar_url   TEXT,
    lang_tag     TEXT    NOT NULL DEFAULT 'en',
    metadata     TEXT    NOT NULL DEFAULT '{}',
    state        INTEGER NOT NULL DEFAULT 0,
    edge_count   INTEGER NOT NULL DEFAULT 0,
    max_count    INTEGER NOT NULL DEFAULT 100,
    create_time  BIGINT  NOT NULL,
    update_time  BIGINT  NOT NULL,
    disable_time BIGINT  NOT NULL DEFAULT 0,
    CHECK (max_count >= 1),
    CHECK (edge_count >= 0 AND edge_count <= max_count)
);
-- One index per listing order (GET /v2/group): no filter; by members; by language; open or
-- closed, then language.
CREATE INDEX groups_update_time_idx ON groups (update_time, edge_count, id);
CREATE INDEX groups_edge_count_idx ON groups (edge_count, update_time, id);
CREATE INDEX groups_lang_tag_idx ON groups (lang_tag, edge_count, update_time, id);
CREATE INDEX groups_state_lang_idx ON groups (state, lang_tag, edge_count, update_time, id);
CREATE INDEX groups_state_edge_idx ON groups (state, edge_count, update_time, id);

-- A user's place in a group: 0 superadmin, 1 admin, 2 member, 3 join request, 4 banned.
-- position (nanoseconds) orders a group's users and a user's groups within each state.
CREATE TABLE group_edge (
    group_id    TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state       INTEGER NOT NULL,
    position    BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_edge_group_idx ON group_edge (group_id, state, position);
CREATE INDEX group_edge_user_idx ON group_edge (user_id, state, position);
