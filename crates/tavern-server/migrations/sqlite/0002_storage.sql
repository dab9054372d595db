-- Storage objects: JSON objects that a user (or the system user, for server data) keeps in named
-- collections, with a version (MD5 of the value) and read/write permissions.
-- read: 0 server only, 1 owner, 2 public; write: 0 server only, 1 owner.
CREATE TABLE storage (
    collection  TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    value       TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    read        INTEGER NOT NULL,
    write       INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    -- Point reads and writes, and everything of one user (account deletion).
    PRIMARY KEY (user_id, collection, key)
) WITHOUT ROWID;
-- Listing a collection's public objects, in (read, key, user_id) order.
CREATE INDEX storage_collection_read_key_idx ON storage (collection, read, key, user_id);
-- Listing one user's objects in a collection, in (read, key) order.
CREATE INDEX storage_collection_user_read_idx ON storage (collection, user_id, read, key);
