//! The server's side of the account `Nk` functions (links, unlinks, bans, random users), with the checks and
//! messages of Nakama's runtime.

use tavern_runtime::{AccountsBackend, BoxFuture, Identity, RuntimeError, api};
use uuid::Uuid;

use super::nk_backend::ServerNk;
use crate::api::error::ApiError;
use crate::api::link;
use crate::api::user::api_user;
use crate::realtime::session::CloseReason;
use crate::storage::now_unix;

fn user_id(id: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(id)
        .map_err(|_| RuntimeError::invalid_argument("user ID must be a valid identifier"))
}

impl AccountsBackend for ServerNk {
    fn link(&self, user: String, identity: Identity) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let user = user_id(&user)?;
            let state = self.state()?;
            match identity {
                Identity::Device(id) => link::link_device(&state, user, &id).await?,
                Identity::Custom(id) => link::link_custom(&state, user, &id).await?,
                Identity::Email { email, password } => {
                    link::link_email(&state, user, &email, &password).await?
                }
            }
            Ok(())
        })
    }

    fn unlink(&self, user: String, identity: Identity) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let user = user_id(&user)?;
            let state = self.state()?;
            match identity {
                Identity::Device(id) => link::unlink_device(&state, user, &id).await?,
                Identity::Custom(id) => link::unlink_custom(&state, user, &id).await?,
                Identity::Email { email, .. } => link::unlink_email(&state, user, &email).await?,
            }
            Ok(())
        })
    }

    fn users_get_random(
        &self,
        count: usize,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
        Box::pin(async move {
            if count == 0 {
                return Ok(Vec::new());
            }
            if count > 1000 {
                return Err(RuntimeError::invalid_argument("count must be 0-1000"));
            }
            let state = self.state()?;
            let rows = state
                .db
                .random_users(&Uuid::new_v4().to_string(), count)
                .await
                .map_err(|e| ApiError::database("Error retrieving random user accounts.", e))?;
            Ok(rows
                .iter()
                .map(|row| api_user(row, state.is_online(&row.id)))
                .collect())
        })
    }

    fn users_ban(&self, ids: Vec<String>, ban: bool) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(());
            }
            let users = ids
                .iter()
                .map(|id| Uuid::parse_str(id))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    RuntimeError::invalid_argument("each user id must be a valid id string")
                })?;
            let state = self.state()?;
            let now = now_unix();
            let texts: Vec<String> = users.iter().map(Uuid::to_string).collect();
            state
                .db
                .set_disable_time(&texts, if ban { now } else { 0 })
                .await
                .map_err(|e| ApiError::database("Error banning user accounts.", e))?;
            if ban {
                // Every token of a banned user stops working and its sockets close.
                for user in users {
                    // Tokens issued up to this second, the ban's own second included.
                    state.session_cache.revoke_all(user, now + 1);
                    for socket in state.realtime.sessions.of_user(user) {
                        socket.close(CloseReason::SERVER_DISCONNECT);
                    }
                }
            }
            Ok(())
        })
    }
}
