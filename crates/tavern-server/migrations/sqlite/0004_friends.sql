-- The friend graph: one row per direction of a relationship between two accounts. State 0 is
-- mutual friends, 1 an invite the source sent, 2 an invite the source received, 3 the source
-- blocked the destination. `position` orders a user's list within a state: the nanosecond time
-- the edge was made, shared by the two rows of an invite. Times are unix seconds.
CREATE TABLE user_edge (
    source_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    destination_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state          INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    update_time    INTEGER NOT NULL,
    PRIMARY KEY (source_id, destination_id)
) WITHOUT ROWID;
-- Listing a user's edges in (state, position) order, with or without a state, from a cursor.
CREATE INDEX user_edge_list_idx ON user_edge (source_id, state, position);
-- Deleting an account deletes the edges that point at it.
CREATE INDEX user_edge_destination_idx ON user_edge (destination_id);
