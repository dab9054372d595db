-- Chat messages of channels with persistence: rooms, direct messages and group channels.
-- A channel is the stream it lives on (mode 2 room, 3 group, 4 direct message; subject and
-- descriptor are UUID text, the nil UUID when unused; label is the room name). History pages
-- by (create_time, id) within a channel; ids are time-ordered (UUIDv7), times unix seconds.
CREATE TABLE message (
    id                TEXT    PRIMARY KEY NOT NULL,
    code              INTEGER NOT NULL DEFAULT 0,
    sender_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username          TEXT    NOT NULL,
    stream_mode       INTEGER NOT NULL,
    stream_subject    TEXT    NOT NULL,
    stream_descriptor TEXT    NOT NULL,
    stream_label      TEXT    NOT NULL,
    content           TEXT    NOT NULL DEFAULT '{}',
    create_time       BIGINT  NOT NULL,
    update_time       BIGINT  NOT NULL
);
CREATE INDEX message_channel_idx
    ON message (stream_mode, stream_subject, stream_descriptor, stream_label, create_time, id);
CREATE INDEX message_sender_id_idx ON message (sender_id);
