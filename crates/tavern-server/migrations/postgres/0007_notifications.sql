-- In-app notifications that were sent persistent, until their user deletes them. Listed per
-- user by (create_time, id); ids are time-ordered (UUIDv7) so that is send order. The system
-- sender is the nil UUID. Times are unix seconds.
CREATE TABLE notification (
    id          TEXT    PRIMARY KEY NOT NULL,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject     TEXT    NOT NULL,
    content     TEXT    NOT NULL DEFAULT '{}',
    code        INTEGER NOT NULL,
    sender_id   TEXT    NOT NULL,
    create_time BIGINT  NOT NULL
);
CREATE INDEX notification_user_idx ON notification (user_id, create_time, id);
