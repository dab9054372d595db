//! RPCs over the chat, notification and stream functions of `Nk`, each taking its arguments
//! as a JSON payload, so clients (and Tavern's tests) can drive them:
//!
//! * `rust_notification_send` `{"user_id", "subject", "content", "code", "sender",
//!   "persistent"}`, `rust_notifications_send` `{"notifications": [..the same..]}`,
//!   `rust_notification_send_all` `{"subject", "content", "code", "persistent"}` and
//!   `rust_notifications_delete` `{"notifications": [{"user_id", "notification_id"}]}`.
//!
//! They act on any account, so they answer only server-to-server calls made with the runtime
//! HTTP key (`POST /v2/rpc/<id>?http_key=...`), never a player's session.

use serde::Deserialize;
use serde_json::Value;
use tavern_runtime::{
    Code, Context, Initializer, Module, NotificationDelete, NotificationSend, RuntimeError,
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
    Ok(())
}
