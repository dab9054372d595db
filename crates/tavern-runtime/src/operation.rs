//! The REST operations that before and after hooks can be registered for, each naming its
//! request and response types.
//!
//! Pass the operation's unit value to
//! [`Initializer::register_before`](crate::Initializer::register_before) or
//! [`Initializer::register_after`](crate::Initializer::register_after); the hook's request and
//! response parameters then have the operation's types.

use crate::api;

mod sealed {
    pub trait Sealed {}
}

/// A REST operation with hooks. Implemented by the unit structs of this module only.
pub trait Operation: sealed::Sealed + Copy + Send + Sync + 'static {
    /// What the client sent, as a before hook sees and may rewrite it.
    type Request: Clone + std::fmt::Debug + Send + Sync + 'static;
    /// What the server answers, as an after hook sees it.
    type Response: Clone + std::fmt::Debug + Send + Sync + 'static;
    /// The operation's name as Nakama spells it, for logs.
    const NAME: &'static str;
}

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident: $request:ty => $response:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $name;

            impl sealed::Sealed for $name {}

            impl Operation for $name {
                type Request = $request;
                type Response = $response;
                const NAME: &'static str = stringify!($name);
            }
        )*
    };
}

operations! {
    /// `POST /v2/account/authenticate/device`.
    AuthenticateDevice: api::AuthenticateDeviceRequest => api::Session;
    /// `POST /v2/account/authenticate/custom`.
    AuthenticateCustom: api::AuthenticateCustomRequest => api::Session;
    /// `POST /v2/account/authenticate/email`.
    AuthenticateEmail: api::AuthenticateEmailRequest => api::Session;
    /// `POST /v2/account/session/refresh`.
    SessionRefresh: api::SessionRefreshRequest => api::Session;
    /// `POST /v2/session/logout`.
    SessionLogout: api::SessionLogoutRequest => ();
    /// `GET /v2/account`: no request body, the caller's account as response.
    GetAccount: () => api::Account;
    /// `PUT /v2/account`.
    UpdateAccount: api::UpdateAccountRequest => ();
    /// `DELETE /v2/account`.
    DeleteAccount: () => ();
    /// `GET /v2/user`.
    GetUsers: api::GetUsersRequest => api::Users;
}
