//! Accounts beyond the profile: linking and unlinking ways to log in, bans, random users. The `Nk`
//! functions and the part of the backend behind them.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// A way to log in that server code can link to or unlink from an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A device id (10-128 bytes).
    Device(String),
    /// A custom id (6-128 bytes).
    Custom(String),
    /// An email address (stored lowercase) and, when linking, its password (8 bytes or more).
    Email { email: String, password: String },
}

/// The server's side of the account functions of [`Nk`](super::Nk).
pub trait AccountsBackend: Send + Sync {
    /// See [`Nk::link_device`], [`Nk::link_custom`], [`Nk::link_email`].
    fn link(&self, user_id: String, identity: Identity) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::unlink_device`], [`Nk::unlink_custom`], [`Nk::unlink_email`].
    fn unlink(
        &self,
        user_id: String,
        identity: Identity,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::users_get_random`].
    fn users_get_random(&self, count: usize)
    -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>>;
    /// See [`Nk::users_ban_id`] and [`Nk::users_unban_id`].
    fn users_ban(
        &self,
        user_ids: Vec<String>,
        ban: bool,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
}

impl Nk {
    /// Links a device id to a user's account. Fails with
    /// [`Code::AlreadyExists`](crate::Code::AlreadyExists) when another account has it, and
    /// [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id.
    pub async fn link_device(&self, user_id: &str, device_id: &str) -> Result<(), RuntimeError> {
        self.link(user_id, Identity::Device(device_id.to_owned()))
            .await
    }

    /// Links a custom id to a user's account (replacing the one it had). Fails as
    /// [`Nk::link_device`].
    pub async fn link_custom(&self, user_id: &str, custom_id: &str) -> Result<(), RuntimeError> {
        self.link(user_id, Identity::Custom(custom_id.to_owned()))
            .await
    }

    /// Links an email address and password to a user's account (replacing those it had); the
    /// address is stored lowercase. Fails as [`Nk::link_device`].
    pub async fn link_email(
        &self,
        user_id: &str,
        email: &str,
        password: &str,
    ) -> Result<(), RuntimeError> {
        let identity = Identity::Email {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        self.link(user_id, identity).await
    }

    /// Unlinks a device id from a user's account. Fails with
    /// [`Code::PermissionDenied`](crate::Code::PermissionDenied) when it is not the account's or
    /// is the account's last way to log in.
    pub async fn unlink_device(&self, user_id: &str, device_id: &str) -> Result<(), RuntimeError> {
        self.unlink(user_id, Identity::Device(device_id.to_owned()))
            .await
    }

    /// Unlinks the custom id of a user's account (only if it is `custom_id`, unless that is
    /// empty). Fails as [`Nk::unlink_device`].
    pub async fn unlink_custom(&self, user_id: &str, custom_id: &str) -> Result<(), RuntimeError> {
        self.unlink(user_id, Identity::Custom(custom_id.to_owned()))
            .await
    }

    /// Unlinks the email address and password of a user's account (only if the address is
    /// `email`, unless that is empty). Fails as [`Nk::unlink_device`].
    pub async fn unlink_email(&self, user_id: &str, email: &str) -> Result<(), RuntimeError> {
        let identity = Identity::Email {
            email: email.to_owned(),
            password: String::new(),
        };
        self.unlink(user_id, identity).await
    }

    /// Bans users: they can no longer log in or refresh a session, their tokens stop working
    /// and their sockets are closed. Fails with
    /// [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id (and bans
    /// none then).
    pub async fn users_ban_id<S: AsRef<str>>(&self, user_ids: &[S]) -> Result<(), RuntimeError> {
        let ids = user_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.accounts())?.users_ban(ids, true).await
    }

    /// Lifts bans: the users can log in again (their old tokens stay invalid).
    pub async fn users_unban_id<S: AsRef<str>>(&self, user_ids: &[S]) -> Result<(), RuntimeError> {
        let ids = user_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.accounts())?.users_ban(ids, false).await
    }

    /// Up to `count` (0-1000) users from a random point of the id order (a few users are
    /// returned in id order, so this is random enough to pick opponents, not to shuffle).
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) above 1000.
    pub async fn users_get_random(&self, count: usize) -> Result<Vec<api::User>, RuntimeError> {
        domain(self.backend.accounts())?
            .users_get_random(count)
            .await
    }

    async fn link(&self, user_id: &str, identity: Identity) -> Result<(), RuntimeError> {
        domain(self.backend.accounts())?
            .link(user_id.to_owned(), identity)
            .await
    }

    async fn unlink(&self, user_id: &str, identity: Identity) -> Result<(), RuntimeError> {
        domain(self.backend.accounts())?
            .unlink(user_id.to_owned(), identity)
            .await
    }
}
