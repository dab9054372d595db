//! The server's implementation of the `Nk` functions game code calls.

use tavern_proto::api;
use tavern_runtime::{BoxFuture, NkBackend, RuntimeError};
use uuid::Uuid;

use crate::api::account::{delete_account, load_account, update_account};
use crate::api::user::load_users;
use crate::storage::Db;

/// `Nk` over the server's database.
pub struct ServerNk {
    db: Db,
}

impl ServerNk {
    pub fn new(db: Db) -> ServerNk {
        ServerNk { db }
    }
}

/// A user id that must be a UUID, as Nakama's runtime checks it.
fn user_id(id: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(id).map_err(|_| RuntimeError::invalid_argument("Invalid user ID."))
}

impl NkBackend for ServerNk {
    fn account_get_id(&self, id: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            Ok(load_account(&self.db, id).await?)
        })
    }

    fn users_get(
        &self,
        user_ids: Vec<String>,
        usernames: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
        Box::pin(async move {
            for id in &user_ids {
                user_id(id)?;
            }
            Ok(load_users(&self.db, &user_ids, &usernames, &[]).await?)
        })
    }

    fn account_update_id(
        &self,
        id: String,
        update: api::UpdateAccountRequest,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            Ok(update_account(&self.db, id, update).await?)
        })
    }

    fn account_delete_id(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            Ok(delete_account(&self.db, id).await?)
        })
    }
}
