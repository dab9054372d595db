//! The `groups` and `group_edge` tables (migration 0005), and every change of membership.
//!
//! A change runs in one transaction that starts by reading the group's row, locked on
//! PostgreSQL (`FOR UPDATE`); on SQLite the single writer connection runs one transaction at
//! a time. Either way, changes to one group happen one after another, so the roles, counts
//! and limits a change checks cannot move under it: `edge_count` never drifts and never
//! passes `max_count`, and a group never loses its last superadmin. The group-channel
//! messages a change writes are stored in the same transaction; the caller pushes them after
//! the commit.

use sqlx::AssertSqlSafe;
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use crate::social::channels::{ChannelWrite, code, group_event};
use crate::storage::transaction::Conn;
use crate::storage::{Db, now_unix};
use crate::{on_conn, on_db};

/// A user's state in a group, Nakama's numbers.
pub mod state {
    pub const SUPERADMIN: i32 = 0;
    pub const ADMIN: i32 = 1;
    pub const MEMBER: i32 = 2;
    pub const JOIN_REQUEST: i32 = 3;
    pub const BANNED: i32 = 4;
}

/// `groups.state` of an open group (1 is closed).
const OPEN: i32 = 0;
const CLOSED: i32 = 1;

/// Nakama's default `max_count`.
pub const DEFAULT_MAX_COUNT: i32 = 100;

/// Why a group call changed nothing (Nakama's runtime errors, with their texts).
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("group not found")]
    NotFound,
    #[error("group permission denied")]
    PermissionDenied,
    #[error("group is full")]
    Full,
    #[error("group name in use")]
    NameInUse,
    #[error("user is last group superadmin")]
    LastSuperadmin,
    #[error("user not found")]
    UserNotFound,
    #[error("no group update ops")]
    NoUpdateOps,
    #[error("group not updated")]
    NotUpdated,
    #[error("group max count is lower than its member count")]
    BelowMembers,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl GroupError {
    /// A failed statement: a taken name or a broken count limit is the caller's mistake.
    fn classify(e: sqlx::Error) -> GroupError {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return GroupError::NameInUse;
            }
            if db.is_check_violation() {
                return GroupError::BelowMembers;
            }
            if db.is_foreign_key_violation() {
                return GroupError::UserNotFound;
            }
        }
        GroupError::Sql(e)
    }
}

/// A row of `groups`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: String,
    pub creator_id: String,
    pub name: String,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub lang_tag: String,
    pub metadata: String,
    pub state: i32,
    pub edge_count: i32,
    pub max_count: i32,
    pub create_time: i64,
    pub update_time: i64,
}

const GROUP_COLUMNS: &str = "id, creator_id, name, description, avatar_url, lang_tag, metadata, \
     state, edge_count, max_count, create_time, update_time";

impl GroupRow {
    pub fn open(&self) -> bool {
        self.state == OPEN
    }

    /// The group as the API shows it.
    pub fn into_wire(self) -> api::Group {
        api::Group {
            open: Some(self.open()),
            id: self.id,
            creator_id: self.creator_id,
            name: self.name,
            description: self.description.unwrap_or_default(),
            lang_tag: self.lang_tag,
            metadata: self.metadata,
            avatar_url: self.avatar_url.unwrap_or_default(),
            edge_count: self.edge_count,
            max_count: self.max_count,
            create_time: Some(Timestamp::from_unix_seconds(self.create_time)),
            update_time: Some(Timestamp::from_unix_seconds(self.update_time)),
        }
    }
}

/// A group to create.
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// Becomes the group's first superadmin.
    pub user_id: Uuid,
    /// The `creator_id` the group shows (the user, unless server code says otherwise).
    pub creator_id: Uuid,
    pub name: String,
    pub description: String,
    /// Empty: `en`.
    pub lang_tag: String,
    pub avatar_url: String,
    /// A JSON object, as text.
    pub metadata: String,
    pub open: bool,
    /// At least 1.
    pub max_count: i32,
}

/// Changes to a group; `None` leaves a field alone, an empty description or avatar clears it.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub lang_tag: Option<String>,
    pub avatar_url: Option<String>,
    pub metadata: Option<String>,
    pub open: Option<bool>,
    pub max_count: Option<i32>,
    pub creator_id: Option<Uuid>,
}

/// Nanoseconds since the epoch: a new edge's position in its state's order.
fn position_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Creates a group with its first superadmin.
pub async fn create(db: &Db, new: &NewGroup) -> Result<GroupRow, GroupError> {
    let now = now_unix();
    let id = Uuid::new_v4().to_string();
    let lang = if new.lang_tag.is_empty() {
        "en"
    } else {
        new.lang_tag.as_str()
    };
    let nullable = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let insert = format!(
        "INSERT INTO groups (id, creator_id, name, description, avatar_url, lang_tag, metadata, \
         state, edge_count, max_count, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10) RETURNING {GROUP_COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let row = on_conn!(&mut conn, |c| {
        sqlx::query_as::<_, GroupRow>(AssertSqlSafe(insert))
            .bind(&id)
            .bind(new.creator_id.to_string())
            .bind(&new.name)
            .bind(nullable(&new.description))
            .bind(nullable(&new.avatar_url))
            .bind(lang)
            .bind(&new.metadata)
            .bind(if new.open { OPEN } else { CLOSED })
            .bind(new.max_count)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(GroupError::classify)?
    });
    insert_edge(&mut conn, &id, &new.user_id.to_string(), state::SUPERADMIN)
        .await
        .map_err(GroupError::classify)?;
    tx.commit().await?;
    Ok(row)
}

async fn insert_edge(
    conn: &mut Conn<'_>,
    group_id: &str,
    user_id: &str,
    state: i32,
) -> sqlx::Result<()> {
    let (position, now) = (position_now(), now_unix());
    on_conn!(conn, |c| {
        sqlx::query(
            "INSERT INTO group_edge (group_id, user_id, state, position, update_time) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(state)
        .bind(position)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// Groups by id (unknown ids left out).
pub async fn get_many(db: &Db, ids: &[Uuid]) -> Result<Vec<GroupRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE id IN ({})",
        placeholders.join(", ")
    );
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_as::<_, GroupRow>(AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.to_string());
        }
        query.fetch_all(pool).await
    })
}

/// Up to `count` groups from a random place in id order.
pub async fn random(db: &Db, count: i32) -> Result<Vec<GroupRow>, sqlx::Error> {
    if count <= 0 {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id > $1 ORDER BY id LIMIT $2");
    let start = Uuid::new_v4().to_string();
    let mut rows = on_db!(db, read, |pool| {
        sqlx::query_as::<_, GroupRow>(AssertSqlSafe(sql.clone()))
            .bind(&start)
            .bind(i64::from(count))
            .fetch_all(pool)
            .await
    })?;
    if rows.len() < count as usize {
        // Wrap around to the start, without the groups already taken.
        let more = on_db!(db, read, |pool| {
            sqlx::query_as::<_, GroupRow>(AssertSqlSafe(sql.clone()))
                .bind("")
                .bind(i64::from(count))
                .fetch_all(pool)
                .await
        })?;
        for row in more {
            if rows.len() >= count as usize {
                break;
            }
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// The group's row, locked until the transaction ends on PostgreSQL.
async fn lock_group(conn: &mut Conn<'_>, group_id: &str) -> sqlx::Result<Option<GroupRow>> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1{}",
        conn.lock_rows()
    );
    on_conn!(conn, |c| {
        sqlx::query_as::<_, GroupRow>(AssertSqlSafe(sql))
            .bind(group_id)
            .fetch_optional(&mut *c)
            .await
    })
}

/// A user's state in a group, if the user has an edge.
async fn edge_state(
    conn: &mut Conn<'_>,
    group_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<i32>> {
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i32>(
            "SELECT state FROM group_edge WHERE group_id = $1 AND user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await
    })
}

/// The caller's state when it may manage the group's users (superadmin or admin); the
/// system (no caller) acts as a superadmin.
async fn manager_state(
    conn: &mut Conn<'_>,
    group_id: &str,
    caller: Option<Uuid>,
) -> Result<i32, GroupError> {
    let Some(caller) = caller else {
        return Ok(state::SUPERADMIN);
    };
    match edge_state(conn, group_id, &caller.to_string()).await? {
        Some(s) if s <= state::ADMIN => Ok(s),
        _ => Err(GroupError::PermissionDenied),
    }
}

/// Superadmins of the group other than `user_id`.
async fn other_superadmins(
    conn: &mut Conn<'_>,
    group_id: &str,
    user_id: &str,
) -> sqlx::Result<i64> {
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM group_edge WHERE group_id = $1 AND user_id <> $2 AND state = 0",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_one(&mut *c)
        .await
    })
}

/// Adds `delta` members to the count; false (nothing changed) when that would pass
/// `max_count`.
async fn change_count(conn: &mut Conn<'_>, group_id: &str, delta: i32) -> sqlx::Result<bool> {
    let now = now_unix();
    on_conn!(conn, |c| {
        let done = sqlx::query(
            "UPDATE groups SET edge_count = edge_count + $2, update_time = $3 \
             WHERE id = $1 AND edge_count + $2 <= max_count AND edge_count + $2 >= 0",
        )
        .bind(group_id)
        .bind(delta)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(done.rows_affected() > 0)
    })
}

async fn delete_edge(conn: &mut Conn<'_>, group_id: &str, user_id: &str) -> sqlx::Result<()> {
    on_conn!(conn, |c| {
        sqlx::query("DELETE FROM group_edge WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(&mut *c)
            .await?;
        Ok(())
    })
}

async fn set_edge_state(
    conn: &mut Conn<'_>,
    group_id: &str,
    user_id: &str,
    to: i32,
    position: Option<i64>,
) -> sqlx::Result<()> {
    let now = now_unix();
    on_conn!(conn, |c| {
        sqlx::query(
            "UPDATE group_edge SET state = $3, position = COALESCE($4, position), update_time = $5 \
             WHERE group_id = $1 AND user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(to)
        .bind(position)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

async fn username(conn: &mut Conn<'_>, user_id: &str) -> sqlx::Result<Option<String>> {
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, String>("SELECT username FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await
    })
}

async fn store(conn: &mut Conn<'_>, message: &ChannelWrite) -> sqlx::Result<()> {
    on_conn!(conn, |c| message.insert(&mut *c).await)
}

/// Changes a group. A user caller must be an admin or superadmin of it.
pub async fn update(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    update: &GroupUpdate,
) -> Result<(), GroupError> {
    let gid = group_id.to_string();
    let mut sets: Vec<String> = Vec::new();
    let mut texts: Vec<Option<String>> = Vec::new();
    let mut text = |column: &str, value: Option<String>| {
        texts.push(value);
        sets.push(format!("{column} = ${}", texts.len() + 3));
    };
    if let Some(name) = &update.name {
        text("name", Some(name.clone()));
    }
    if let Some(lang) = &update.lang_tag {
        text("lang_tag", Some(lang.clone()));
    }
    if let Some(description) = &update.description {
        text(
            "description",
            (!description.is_empty()).then(|| description.clone()),
        );
    }
    if let Some(avatar) = &update.avatar_url {
        text("avatar_url", (!avatar.is_empty()).then(|| avatar.clone()));
    }
    if let Some(metadata) = &update.metadata {
        text("metadata", Some(metadata.clone()));
    }
    if let Some(creator) = update.creator_id {
        text("creator_id", Some(creator.to_string()));
    }
    if sets.is_empty() && update.open.is_none() && update.max_count.is_none() {
        return Err(GroupError::NoUpdateOps);
    }
    // $2 and $3: the state and max count, each kept when NULL.
    sets.push("state = COALESCE($2, state)".to_owned());
    sets.push("max_count = COALESCE($3, max_count)".to_owned());
    let sql = format!(
        "UPDATE groups SET update_time = ${}, {} WHERE id = $1",
        texts.len() + 4,
        sets.join(", ")
    );
    let state = update.open.map(|open| if open { OPEN } else { CLOSED });
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    if lock_group(&mut conn, &gid).await?.is_none() {
        return Err(match caller {
            Some(_) => GroupError::PermissionDenied,
            None => GroupError::NotUpdated,
        });
    }
    if let Some(caller) = caller
        && !matches!(edge_state(&mut conn, &gid, &caller.to_string()).await?, Some(s) if s <= state::ADMIN)
    {
        return Err(GroupError::PermissionDenied);
    }
    let changed = on_conn!(&mut conn, |c| {
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(&gid)
            .bind(state)
            .bind(update.max_count);
        for value in &texts {
            query = query.bind(value.as_deref());
        }
        query
            .bind(now_unix())
            .execute(&mut *c)
            .await
            .map_err(GroupError::classify)?
            .rows_affected()
    });
    if changed == 0 {
        return Err(GroupError::NotUpdated);
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a group and its edges. A user caller must be a superadmin of it.
pub async fn delete(db: &Db, group_id: Uuid, caller: Option<Uuid>) -> Result<(), GroupError> {
    let gid = group_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let exists = lock_group(&mut conn, &gid).await?.is_some();
    if let Some(caller) = caller
        && edge_state(&mut conn, &gid, &caller.to_string()).await? != Some(state::SUPERADMIN)
    {
        return Err(GroupError::PermissionDenied);
    }
    if !exists {
        return Ok(());
    }
    on_conn!(&mut conn, |c| {
        sqlx::query("DELETE FROM group_edge WHERE group_id = $1")
            .bind(&gid)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(&gid)
            .execute(&mut *c)
            .await?;
    });
    tx.commit().await?;
    Ok(())
}

/// What a join did.
#[derive(Debug)]
pub enum Joined {
    /// The user is a member of the open group now; the channel message to push.
    Member(Box<ChannelWrite>),
    /// The user asked to join the closed group; its admins and superadmins to notify.
    Requested { admins: Vec<Uuid> },
    /// The user already had an edge (member, request or ban): nothing changed.
    Unchanged,
}

/// A user joins an open group (a member at once) or asks to join a closed one.
pub async fn join(
    db: &Db,
    group_id: Uuid,
    user_id: Uuid,
    username: &str,
) -> Result<Joined, GroupError> {
    let gid = group_id.to_string();
    let uid = user_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let group = lock_group(&mut conn, &gid)
        .await?
        .ok_or(GroupError::NotFound)?;
    if group.edge_count >= group.max_count {
        return Err(GroupError::Full);
    }
    if edge_state(&mut conn, &gid, &uid).await?.is_some() {
        return Ok(Joined::Unchanged);
    }
    let joined = if group.open() {
        insert_edge(&mut conn, &gid, &uid, state::MEMBER).await?;
        if !change_count(&mut conn, &gid, 1).await? {
            return Err(GroupError::Full);
        }
        let message = group_event(group_id, code::GROUP_JOIN, user_id, username);
        store(&mut conn, &message).await?;
        Joined::Member(Box::new(message))
    } else {
        insert_edge(&mut conn, &gid, &uid, state::JOIN_REQUEST).await?;
        let admins = on_conn!(&mut conn, |c| {
            sqlx::query_scalar::<_, String>(
                "SELECT user_id FROM group_edge WHERE group_id = $1 AND state IN (0, 1)",
            )
            .bind(&gid)
            .fetch_all(&mut *c)
            .await?
        });
        Joined::Requested {
            admins: admins
                .iter()
                .filter_map(|a| Uuid::parse_str(a).ok())
                .collect(),
        }
    };
    tx.commit().await?;
    Ok(joined)
}

/// A user leaves a group (or withdraws a join request). Leaving a group one is not in, or
/// is banned from, changes nothing; the last superadmin cannot leave.
pub async fn leave(
    db: &Db,
    group_id: Uuid,
    user_id: Uuid,
    username: &str,
) -> Result<Option<ChannelWrite>, GroupError> {
    let gid = group_id.to_string();
    let uid = user_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    if lock_group(&mut conn, &gid).await?.is_none() {
        return Ok(None);
    }
    let Some(current) = edge_state(&mut conn, &gid, &uid).await? else {
        return Ok(None);
    };
    if current == state::BANNED {
        return Ok(None);
    }
    if current == state::SUPERADMIN && other_superadmins(&mut conn, &gid, &uid).await? == 0 {
        return Err(GroupError::LastSuperadmin);
    }
    delete_edge(&mut conn, &gid, &uid).await?;
    if current < state::JOIN_REQUEST {
        change_count(&mut conn, &gid, -1).await?;
    }
    let message = group_event(group_id, code::GROUP_LEAVE, user_id, username);
    store(&mut conn, &message).await?;
    tx.commit().await?;
    Ok(Some(message))
}

/// Takes a user out of every group before the account goes (as Nakama's `GroupDeleteAll`):
/// the groups whose last superadmin the user is are deleted, the others lose the user's edge
/// and, for a member, one from their count.
pub async fn remove_user(db: &Db, user_id: Uuid) -> sqlx::Result<()> {
    let uid = user_id.to_string();
    let mut tx = db.begin().await?;
    on_conn!(&mut tx.conn(), |c| {
        sqlx::query(
            "DELETE FROM groups WHERE id IN \
             (SELECT group_id FROM group_edge WHERE user_id = $1 AND state = 0) \
             AND NOT EXISTS (SELECT 1 FROM group_edge o \
             WHERE o.group_id = groups.id AND o.state = 0 AND o.user_id <> $1)",
        )
        .bind(&uid)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "UPDATE groups SET edge_count = edge_count - 1 WHERE id IN \
             (SELECT group_id FROM group_edge WHERE user_id = $1 AND state < 3)",
        )
        .bind(&uid)
        .execute(&mut *c)
        .await?;
        sqlx::query("DELETE FROM group_edge WHERE user_id = $1")
            .bind(&uid)
            .execute(&mut *c)
            .await?;
    });
    tx.commit().await
}

/// Whether the user is a superadmin, admin or member of the group.
pub async fn is_member(db: &Db, group_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    on_db!(db, read, |pool| {
        let found = sqlx::query_scalar::<_, i32>(
            "SELECT state FROM group_edge WHERE group_id = $1 AND user_id = $2",
        )
        .bind(group_id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(pool)
        .await?;
        Ok(matches!(found, Some(s) if s <= state::MEMBER))
    })
}

/// What a change to several users of a group did: the channel messages to push, and the
/// users it changed.
#[derive(Debug, Default)]
pub struct Changed {
    pub group_name: String,
    pub messages: Vec<ChannelWrite>,
    pub users: Vec<Uuid>,
}

/// The group's row, for a change by a manager (or the system): a user caller without the
/// right is refused before the group's existence is told.
async fn managed_group(
    conn: &mut Conn<'_>,
    group_id: &str,
    caller: Option<Uuid>,
) -> Result<(GroupRow, i32), GroupError> {
    let group = lock_group(conn, group_id).await?;
    let my_state = manager_state(conn, group_id, caller).await?;
    let group = group.ok_or(GroupError::NotFound)?;
    Ok((group, my_state))
}

/// Adds users to a group as members, or accepts their join requests. A user caller must be
/// an admin or superadmin. Unknown users fail the whole call; members and banned users are
/// left as they are.
pub async fn add(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
) -> Result<Changed, GroupError> {
    let gid = group_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let (group, _) = managed_group(&mut conn, &gid, caller).await?;
    let mut changed = Changed {
        group_name: group.name,
        ..Changed::default()
    };
    for &user_id in user_ids {
        if Some(user_id) == caller || changed.users.contains(&user_id) {
            continue;
        }
        let uid = user_id.to_string();
        let name = username(&mut conn, &uid)
            .await?
            .ok_or(GroupError::UserNotFound)?;
        match edge_state(&mut conn, &gid, &uid).await? {
            None => insert_edge(&mut conn, &gid, &uid, state::MEMBER).await?,
            Some(state::JOIN_REQUEST) => {
                set_edge_state(&mut conn, &gid, &uid, state::MEMBER, Some(position_now())).await?
            }
            Some(_) => continue,
        }
        if !change_count(&mut conn, &gid, 1).await? {
            return Err(GroupError::Full);
        }
        let message = group_event(group_id, code::GROUP_ADD, user_id, &name);
        store(&mut conn, &message).await?;
        changed.messages.push(message);
        changed.users.push(user_id);
    }
    tx.commit().await?;
    Ok(changed)
}

/// Kicks (or, with `ban`, bans) users from a group. A superadmin (or the system) may remove
/// anyone but the last superadmin; an admin only members and join requests. Removing a join
/// request rejects it. A ban keeps the user out until kicked; users without an edge are
/// skipped, as Nakama does.
pub async fn remove(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
    ban: bool,
) -> Result<Changed, GroupError> {
    let gid = group_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let (group, my_state) = managed_group(&mut conn, &gid, caller).await?;
    let mut changed = Changed {
        group_name: group.name,
        ..Changed::default()
    };
    for &user_id in user_ids {
        if Some(user_id) == caller {
            continue;
        }
        let uid = user_id.to_string();
        let Some(current) = edge_state(&mut conn, &gid, &uid).await? else {
            continue;
        };
        if my_state == state::ADMIN && current <= state::ADMIN {
            continue;
        }
        if current == state::SUPERADMIN && other_superadmins(&mut conn, &gid, &uid).await? == 0 {
            continue;
        }
        if ban {
            if current == state::BANNED {
                continue;
            }
            set_edge_state(&mut conn, &gid, &uid, state::BANNED, Some(position_now())).await?;
        } else {
            delete_edge(&mut conn, &gid, &uid).await?;
        }
        if current < state::JOIN_REQUEST {
            change_count(&mut conn, &gid, -1).await?;
            let name = username(&mut conn, &uid).await?.unwrap_or_default();
            let event = if ban {
                code::GROUP_BAN
            } else {
                code::GROUP_KICK
            };
            let message = group_event(group_id, event, user_id, &name);
            store(&mut conn, &message).await?;
            changed.messages.push(message);
            changed.users.push(user_id);
        }
    }
    tx.commit().await?;
    Ok(changed)
}

/// Promotes users one step (member to admin, admin to superadmin) up to the caller's own
/// rank: an admin makes admins, a superadmin (or the system) superadmins. Join requests are
/// accepted with [`add`], not here.
pub async fn promote(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
) -> Result<Changed, GroupError> {
    step(db, group_id, caller, user_ids, true).await
}

/// Demotes users one step (superadmin to admin, admin to member) from the caller's rank
/// down; the last superadmin stays.
pub async fn demote(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
) -> Result<Changed, GroupError> {
    step(db, group_id, caller, user_ids, false).await
}

async fn step(
    db: &Db,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
    up: bool,
) -> Result<Changed, GroupError> {
    let gid = group_id.to_string();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let (group, my_state) = managed_group(&mut conn, &gid, caller).await?;
    let mut changed = Changed {
        group_name: group.name,
        ..Changed::default()
    };
    for &user_id in user_ids {
        if Some(user_id) == caller || changed.users.contains(&user_id) {
            continue;
        }
        let uid = user_id.to_string();
        let Some(current) = edge_state(&mut conn, &gid, &uid).await? else {
            continue;
        };
        let to = if up {
            // Nakama: state > 0, state > caller's, state <= member.
            if current == state::SUPERADMIN || current <= my_state || current > state::MEMBER {
                continue;
            }
            current - 1
        } else {
            // Nakama: caller's <= state < member, keeping a superadmin.
            if current < my_state || current >= state::MEMBER {
                continue;
            }
            if current == state::SUPERADMIN && other_superadmins(&mut conn, &gid, &uid).await? == 0
            {
                continue;
            }
            current + 1
        };
        set_edge_state(&mut conn, &gid, &uid, to, None).await?;
        let name = username(&mut conn, &uid).await?.unwrap_or_default();
        let event = if up {
            code::GROUP_PROMOTE
        } else {
            code::GROUP_DEMOTE
        };
        let message = group_event(group_id, event, user_id, &name);
        store(&mut conn, &message).await?;
        changed.messages.push(message);
        changed.users.push(user_id);
    }
    tx.commit().await?;
    Ok(changed)
}

/// One row of a membership listing: the other side's row, the state and the position.
#[derive(Debug)]
pub struct EdgeRow<T> {
    pub item: T,
    pub state: i32,
    pub position: i64,
}

/// Where a membership listing starts: (state, position), inclusive.
pub type EdgeStart = Option<(i32, i64)>;

fn edge_filter(state: Option<i32>, start: EdgeStart) -> String {
    let mut sql = match state {
        Some(_) => " AND ge.state = $2".to_owned(),
        None => " AND ge.state >= 0 AND ge.state <= 3 AND $2 = $2".to_owned(),
    };
    if start.is_some() {
        sql.push_str(" AND (ge.state > $3 OR (ge.state = $3 AND ge.position >= $4))");
    } else {
        sql.push_str(" AND $3 = $3 AND $4 = $4");
    }
    sql.push_str(" ORDER BY ge.state, ge.position, ge.group_id, ge.user_id LIMIT $5");
    sql
}

#[derive(sqlx::FromRow)]
struct UserEdge {
    #[sqlx(flatten)]
    user: crate::storage::users::UserRow,
    edge_state: i32,
    edge_position: i64,
}

#[derive(sqlx::FromRow)]
struct GroupEdge {
    #[sqlx(flatten)]
    group: GroupRow,
    edge_state: i32,
    edge_position: i64,
}

/// A group's users in (state, position) order: `limit` rows and, if there are more, the
/// first of the next page.
pub async fn group_users(
    db: &Db,
    group_id: Uuid,
    state: Option<i32>,
    start: EdgeStart,
    limit: i64,
) -> Result<Vec<EdgeRow<crate::storage::users::UserRow>>, sqlx::Error> {
    let columns = crate::storage::users::USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, ge.state AS edge_state, ge.position AS edge_position \
         FROM group_edge ge JOIN users u ON u.id = ge.user_id WHERE ge.group_id = $1{}",
        edge_filter(state, start)
    );
    let (from_state, from_position) = start.unwrap_or_default();
    let rows = on_db!(db, read, |pool| {
        sqlx::query_as::<_, UserEdge>(AssertSqlSafe(sql))
            .bind(group_id.to_string())
            .bind(state.unwrap_or_default())
            .bind(from_state)
            .bind(from_position)
            .bind(limit + 1)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| EdgeRow {
            item: r.user,
            state: r.edge_state,
            position: r.edge_position,
        })
        .collect())
}

/// A user's groups in (state, position) order: `limit` rows and, if there are more, the
/// first of the next page.
pub async fn user_groups(
    db: &Db,
    user_id: Uuid,
    state: Option<i32>,
    start: EdgeStart,
    limit: i64,
) -> Result<Vec<EdgeRow<GroupRow>>, sqlx::Error> {
    let columns = GROUP_COLUMNS
        .split(", ")
        .map(|c| format!("g.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, ge.state AS edge_state, ge.position AS edge_position \
         FROM group_edge ge JOIN groups g ON g.id = ge.group_id WHERE ge.user_id = $1{}",
        edge_filter(state, start)
    );
    let (from_state, from_position) = start.unwrap_or_default();
    let rows = on_db!(db, read, |pool| {
        sqlx::query_as::<_, GroupEdge>(AssertSqlSafe(sql))
            .bind(user_id.to_string())
            .bind(state.unwrap_or_default())
            .bind(from_state)
            .bind(from_position)
            .bind(limit + 1)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| EdgeRow {
            item: r.group,
            state: r.edge_state,
            position: r.edge_position,
        })
        .collect())
}

/// The filters of a group listing.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// A case-insensitive `LIKE` pattern (`%` wildcards); alone, never with the others.
    pub name: Option<String>,
    pub lang_tag: Option<String>,
    /// At most this many members (exactly this many when only `open` is also given).
    pub members: Option<i32>,
    pub open: Option<bool>,
}

/// Where a group listing resumes: after the last group listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAfter {
    pub id: Uuid,
    pub name: String,
    pub edge_count: i32,
    pub update_time: i64,
}

/// Groups matching the filter, `limit + 1` at most (the extra one says there is more).
///
/// Orders: by name with a name filter; oldest update first without any filter; largest
/// first (then most recently updated) with the language, members or open filters.
pub async fn list(
    db: &Db,
    filter: &GroupFilter,
    after: Option<&GroupAfter>,
    limit: i64,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    // $1 limit; $2 name pattern; $3 state; $4 lang; $5 members; $6.. the cursor.
    let mut conditions = vec!["$2 = $2 AND $3 = $3 AND $4 = $4 AND $5 = $5".to_owned()];
    let order;
    if filter.name.is_some() {
        conditions.push("lower(name) LIKE lower($2)".to_owned());
        if after.is_some() {
            conditions.push("name > $7 AND $6 = $6 AND $8 = $8 AND $9 = $9".to_owned());
        }
        order = "name";
    } else if filter.open.is_none() && filter.lang_tag.is_none() && filter.members.is_none() {
        if after.is_some() {
            conditions.push(
                "(update_time > $8 OR (update_time = $8 AND (edge_count > $9 OR \
                 (edge_count = $9 AND id > $6)))) AND $7 = $7"
                    .to_owned(),
            );
        }
        order = "update_time, edge_count, id";
    } else {
        if filter.open.is_some() {
            conditions.push("state = $3".to_owned());
        }
        if filter.lang_tag.is_some() {
            conditions.push("lang_tag = $4".to_owned());
        }
        if filter.members.is_some() {
            if filter.open.is_some() && filter.lang_tag.is_none() {
                conditions.push("edge_count = $5".to_owned());
            } else {
                conditions.push("edge_count <= $5".to_owned());
            }
        }
        if after.is_some() {
            conditions.push(
                "(edge_count < $9 OR (edge_count = $9 AND (update_time < $8 OR \
                 (update_time = $8 AND id < $6)))) AND $7 = $7"
                    .to_owned(),
            );
        }
        order = "edge_count DESC, update_time DESC, id DESC";
    }
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE {} ORDER BY {order} LIMIT $1",
        conditions.join(" AND ")
    );
    let state = filter.open.map(|open| if open { OPEN } else { CLOSED });
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_as::<_, GroupRow>(AssertSqlSafe(sql))
            .bind(limit + 1)
            .bind(filter.name.clone().unwrap_or_default())
            .bind(state.unwrap_or_default())
            .bind(filter.lang_tag.clone().unwrap_or_default())
            .bind(filter.members.unwrap_or_default());
        if let Some(after) = after {
            query = query
                .bind(after.id.to_string())
                .bind(after.name.clone())
                .bind(after.update_time)
                .bind(after.edge_count);
        }
        query.fetch_all(pool).await
    })
}
