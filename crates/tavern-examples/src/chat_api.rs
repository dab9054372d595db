//! RPCs over the chat, notification and stream functions of `Nk`, each taking its arguments
//! as a JSON payload, so clients (and Tavern's tests) can drive them:
//!
//! * `rust_notification_send` `{"user_id", "subject", "content", "code", "sender",
//!   "persistent"}`, `rust_notifications_send` `{"notifications": [..the same..]}`,
//!   `rust_notification_send_all` `{"subject", "content", "code", "persistent"}` and
//!   `rust_notifications_delete` `{"notifications": [{"user_id", "notification_id"}]}`;
//! * `rust_channel_message_send` `{"channel_id", "content", "sender_id", "username",
//!   "persist"}`, `rust_channel_message_update` and `rust_channel_message_remove` (the same
//!   and `"message_id"`), `rust_channel_messages_list` `{"channel_id", "limit", "forward",
//!   "cursor"}` and `rust_channel_id_build` `{"sender_id", "target", "type"}`.
//!
//! They act on any account, so they answer only server-to-server calls made with the runtime
//! HTTP key (`POST /v2/rpc/<id>?http_key=...`), never a player's session.
//!
//! `rust_stream` is for players, over the socket: `{"op", "mode", "label", "hidden",
//! "status", "data", "session_ids"}` puts the caller's session on a custom stream (mode 8 and
//! up, named by its label) or takes it off (`op` `join`, `update`, `leave`), sends the
//! stream data (`send`, to everyone or to `session_ids`) or closes it (`close`); it answers
//! what the stream then holds: `{"joined", "count", "presences": [{"user_id", "session_id",
//! "username", "hidden", "status"}]}`.

use serde::Deserialize;
use serde_json::Value;
use serde_json::json;
use tavern_runtime::{
    ChannelSender, ChannelType, Code, Context, Initializer, Module, NotificationDelete,
    NotificationSend, Presence, RuntimeError, StreamId,
};

/// The `chat_api` module.
pub const MODULE: Module = Module::new("chat_api", init);

/// A notification as the RPCs take it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Notification {
    user_id: String,
    subject: String,
    content: Value,
    code: i32,
    sender: String,
    persistent: bool,
    notification_id: String,
}

impl Notification {
    fn send(self) -> NotificationSend {
        NotificationSend {
            user_id: self.user_id,
            subject: self.subject,
            content: self.content,
            code: self.code,
            sender: self.sender,
            persistent: self.persistent,
        }
    }
}

/// The arguments of every RPC here; each reads the fields it needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Args {
    #[serde(flatten)]
    one: Notification,
    notifications: Vec<Notification>,
    #[serde(flatten)]
    channel: ChannelArgs,
}

/// The channel functions' arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChannelArgs {
    channel_id: String,
    message_id: String,
    sender_id: String,
    username: String,
    persist: bool,
    limit: usize,
    forward: bool,
    cursor: String,
    target: String,
    r#type: i64,
}

impl ChannelArgs {
    fn sender(&self) -> ChannelSender {
        ChannelSender::user(&self.sender_id, &self.username)
    }
}

/// `rust_stream`'s arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StreamArgs {
    op: String,
    mode: u8,
    label: String,
    hidden: bool,
    status: String,
    data: String,
    session_ids: Vec<String>,
}

/// The arguments of a call made with the HTTP key; a player's call is refused.
fn args(ctx: &Context, payload: &str) -> Result<Args, RuntimeError> {
    if ctx.user_id().is_some() {
        return Err(RuntimeError::new(
            "only server-to-server calls (with the HTTP key) may use this RPC",
            Code::PermissionDenied,
        ));
    }
    serde_json::from_value(crate::params(payload)?)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad arguments: {e}")))
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rust_notification_send", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?.one;
        nk.notification_send(
            &a.user_id,
            &a.subject,
            a.content,
            a.code,
            &a.sender,
            a.persistent,
        )
        .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_notifications_send", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let list = a
            .notifications
            .into_iter()
            .map(Notification::send)
            .collect();
        nk.notifications_send(list).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc(
        "rust_notification_send_all",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?.one;
            nk.notification_send_all(&a.subject, a.content, a.code, a.persistent)
                .await?;
            Ok("{}".to_owned())
        },
    );
    init.register_rpc("rust_notifications_delete", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let list = a
            .notifications
            .into_iter()
            .map(|n| NotificationDelete {
                user_id: n.user_id,
                notification_id: n.notification_id,
            })
            .collect();
        nk.notifications_delete(list).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_channel_message_send", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let ack = nk
            .channel_message_send(
                &a.channel.channel_id,
                a.one.content,
                a.channel.sender(),
                a.channel.persist,
            )
            .await?;
        to_json(&ack)
    });
    init.register_rpc(
        "rust_channel_message_update",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let c = &a.channel;
            let ack = nk
                .channel_message_update(
                    &c.channel_id,
                    &c.message_id,
                    a.one.content,
                    c.sender(),
                    c.persist,
                )
                .await?;
            to_json(&ack)
        },
    );
    init.register_rpc(
        "rust_channel_message_remove",
        |ctx, nk, payload| async move {
            let c = args(&ctx, &payload)?.channel;
            let ack = nk
                .channel_message_remove(&c.channel_id, &c.message_id, c.sender(), c.persist)
                .await?;
            to_json(&ack)
        },
    );
    init.register_rpc(
        "rust_channel_messages_list",
        |ctx, nk, payload| async move {
            let c = args(&ctx, &payload)?.channel;
            let list = nk
                .channel_messages_list(&c.channel_id, c.limit, c.forward, &c.cursor)
                .await?;
            to_json(&list)
        },
    );
    init.register_rpc("rust_channel_id_build", |ctx, nk, payload| async move {
        let c = args(&ctx, &payload)?.channel;
        let kind = ChannelType::from_number(c.r#type)
            .ok_or_else(|| RuntimeError::invalid_argument("type must be 1, 2 or 3"))?;
        let id = nk.channel_id_build(&c.sender_id, &c.target, kind).await?;
        Ok(json!({ "channel_id": id }).to_string())
    });
    init.register_rpc("rust_stream", |ctx, nk, payload| async move {
        let user = ctx.user().ok_or_else(|| {
            RuntimeError::new("a player's socket call only", Code::PermissionDenied)
        })?;
        let session_id = user.session_id.clone().ok_or_else(|| {
            RuntimeError::new("a player's socket call only", Code::PermissionDenied)
        })?;
        let a: StreamArgs = serde_json::from_value(crate::params(&payload)?)
            .map_err(|e| RuntimeError::invalid_argument(format!("bad arguments: {e}")))?;
        if a.mode < 8 {
            return Err(RuntimeError::invalid_argument(
                "only custom streams (mode 8 and up)",
            ));
        }
        let stream = StreamId::labelled(a.mode, a.label);
        let mut joined = false;
        match a.op.as_str() {
            "join" => {
                joined = nk.stream_user_join(
                    &stream,
                    &user.user_id,
                    &session_id,
                    a.hidden,
                    false,
                    &a.status,
                )?;
            }
            "update" => {
                nk.stream_user_update(
                    &stream,
                    &user.user_id,
                    &session_id,
                    a.hidden,
                    false,
                    &a.status,
                )?;
            }
            "leave" => nk.stream_user_leave(&stream, &user.user_id, &session_id)?,
            "send" => {
                let to: Vec<Presence> = a
                    .session_ids
                    .into_iter()
                    .map(|session_id| Presence {
                        user_id: String::new(),
                        session_id,
                        username: String::new(),
                        node: String::new(),
                    })
                    .collect();
                nk.stream_send(&stream, &a.data, &to, true)?;
            }
            "close" => nk.stream_close(&stream)?,
            _ => {}
        }
        let presences: Vec<Value> = nk
            .stream_user_list(&stream, true, true)?
            .into_iter()
            .map(|p| {
                json!({
                    "user_id": p.presence.user_id,
                    "session_id": p.presence.session_id,
                    "username": p.meta.username,
                    "hidden": p.meta.hidden,
                    "status": p.meta.status,
                })
            })
            .collect();
        Ok(json!({
            "joined": joined,
            "count": nk.stream_count(&stream)?,
            "presences": presences,
        })
        .to_string())
    });
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, RuntimeError> {
    serde_json::to_string(value).map_err(|e| RuntimeError::internal(e.to_string()))
}
