//! The server's side of the domain's `Nk` functions, with the checks and messages of Nakama's
//! runtime.

use tavern_runtime::{BoxFuture, FriendsBackend, FriendsChange, RuntimeError, api};
use uuid::Uuid;

use super::graph::{self, ListError};
use super::rest::MAX_TARGETS;
use super::sql;
use crate::api::error::ApiError;
use crate::runtime::nk_backend::ServerNk;

impl FriendsBackend for ServerNk {
    fn friends_list(
        &self,
        user_id: String,
        limit: usize,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::FriendList, RuntimeError>> {
        Box::pin(async move {
            let user = user_id_of(&user_id)?;
            if !(1..=100).contains(&limit) {
                return Err(invalid("expects limit to be 1-100"));
            }
            if state.is_some_and(|s| !(0..=3).contains(&s)) {
                return Err(invalid("expects state to be 0-3"));
            }
            let state_of_server = self.state()?;
            graph::list(&state_of_server, user, limit, state, &cursor)
                .await
                .map_err(|e| match e {
                    ListError::InvalidCursor => invalid("cursor is invalid"),
                    ListError::Database(e) => {
                        ApiError::database("Error while trying to list friends.", e).into()
                    }
                })
        })
    }

    fn friends_change(
        &self,
        change: FriendsChange,
        user_id: String,
        username: String,
        ids: Vec<String>,
        usernames: Vec<String>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let user = user_id_of(&user_id)?;
            if ids.is_empty() && usernames.is_empty() {
                return Ok(());
            }
            let (verb, self_message) = match change {
                FriendsChange::Add => ("add", "cannot add self as friend"),
                FriendsChange::Delete => ("delete", "cannot delete self"),
                FriendsChange::Block => ("block", "cannot block self"),
            };
            if ids.len() + usernames.len() > MAX_TARGETS {
                return Err(invalid(&format!(
                    "too many IDs and usernames - at most {MAX_TARGETS}"
                )));
            }
            let mut targets = Vec::with_capacity(ids.len() + usernames.len());
            for id in &ids {
                match Uuid::parse_str(id).ok().filter(|u| !u.is_nil()) {
                    Some(u) if u == user => return Err(invalid(self_message)),
                    Some(u) => targets.push(u.to_string()),
                    None => return Err(invalid(&format!("invalid user ID '{id}'"))),
                }
            }
            for name in &usernames {
                if name.is_empty() {
                    return Err(invalid(&format!("username to {verb} must not be empty")));
                }
                if *name == username {
                    return Err(invalid(self_message));
                }
            }
            let state = self.state()?;
            let failed = format!("error while trying to {verb} friends");
            let me = user.to_string();
            targets.extend(
                sql::ids_of_usernames(&state.db, &usernames)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "could not look up usernames");
                        RuntimeError::internal(failed.clone())
                    })?
                    .into_iter()
                    .filter(|id| *id != me),
            );
            if targets.is_empty() {
                return Err(invalid("no valid ID or username was provided"));
            }
            let done = match change {
                FriendsChange::Add => graph::add(&state, user, &username, &targets).await,
                FriendsChange::Delete => graph::delete(&state, user, &targets).await,
                FriendsChange::Block => graph::block(&state, user, &targets).await,
            };
            done.map_err(|e| {
                tracing::error!(error = %e, "could not change friends");
                RuntimeError::internal(failed)
            })
        })
    }
}

fn user_id_of(id: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(id).map_err(|_| invalid("expects user ID to be a valid identifier"))
}

fn invalid(message: &str) -> RuntimeError {
    RuntimeError::invalid_argument(message)
}
