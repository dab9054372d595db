//! `POST /v2/account/authenticate/{device,custom,email}`: find or create an account, issue a session.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;
use uuid::Uuid;

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, Params, ServerKey};
use super::hooks;
use crate::auth::{password, validate};
use crate::state::AppState;
use crate::storage::now_unix;
use crate::storage::users::{Identity, LoginRow, NewUser, WriteError};
use tavern_runtime::operation::{AuthenticateCustom, AuthenticateDevice, AuthenticateEmail};
use tavern_runtime::{Caller, Code, UserSession};

/// The query-string half of an authenticate call: `create` (absent means true) and `username`.
fn query_options(params: &Params) -> Result<(Option<bool>, String), ApiError> {
    Ok((
        params.bool(&["create"])?,
        params.get(&["username"]).unwrap_or_default().to_owned(),
    ))
}

/// How to log in, once the before hook has had its say.
struct Options {
    create: bool,
    username: String,
}

impl Options {
    fn new(create: Option<bool>, username: &str) -> Options {
        Options {
            create: create.unwrap_or(true),
            username: username.to_owned(),
        }
    }
}

pub async fn device(
    State(state): State<Arc<AppState>>,
    _key: ServerKey,
    call: CallInfo,
    params: Params,
    Body(account): Body<api::AccountDevice>,
) -> Result<Json<api::Session>, ApiError> {
    let (create, username) = query_options(&params)?;
    let request = api::AuthenticateDeviceRequest {
        account: Some(account),
        create,
        username,
    };
    let request = hooks::before(
        &state,
        &call,
        Caller::ServerKey,
        AuthenticateDevice,
        request,
    )
    .await?;
    let account = request.account.clone().unwrap_or_default();
    let options = Options::new(request.create, &request.username);
    validate::device_id(&account.id)?;
    validate::username(&options.username)?;
    let login = find_or_create(&state, Identity::Device(&account.id), &options, None).await?;
    let (session, caller) = issue_session(&state, login, account.vars);
    hooks::after(&state, &call, caller, AuthenticateDevice, request, &session).await;
    Ok(Json(session))
}

pub async fn custom(
    State(state): State<Arc<AppState>>,
    _key: ServerKey,
    call: CallInfo,
    params: Params,
    Body(account): Body<api::AccountCustom>,
) -> Result<Json<api::Session>, ApiError> {
    let (create, username) = query_options(&params)?;
    let request = api::AuthenticateCustomRequest {
        account: Some(account),
        create,
        username,
    };
    let request = hooks::before(
        &state,
        &call,
        Caller::ServerKey,
        AuthenticateCustom,
        request,
    )
    .await?;
    let account = request.account.clone().unwrap_or_default();
    let options = Options::new(request.create, &request.username);
    validate::custom_id(&account.id)?;
    validate::username(&options.username)?;
    let login = find_or_create(&state, Identity::Custom(&account.id), &options, None).await?;
    let (session, caller) = issue_session(&state, login, account.vars);
    hooks::after(&state, &call, caller, AuthenticateCustom, request, &session).await;
    Ok(Json(session))
}

pub async fn email(
    State(state): State<Arc<AppState>>,
    _key: ServerKey,
    call: CallInfo,
    params: Params,
    Body(account): Body<api::AccountEmail>,
) -> Result<Json<api::Session>, ApiError> {
    let (create, username) = query_options(&params)?;
    let request = api::AuthenticateEmailRequest {
        account: Some(account),
        create,
        username,
    };
    let request =
        hooks::before(&state, &call, Caller::ServerKey, AuthenticateEmail, request).await?;
    let account = request.account.clone().unwrap_or_default();
    let options = Options::new(request.create, &request.username);
    if account.email.is_empty() && account.password.is_empty() && account.vars.is_empty() {
        return Err(ApiError::invalid("Email address and password is required."));
    }
    let username_login = account.email.is_empty();
    if !username_login {
        validate::email(&account.email)?;
    }
    validate::password(&account.password)?;
    if options.username.is_empty() && username_login {
        return Err(ApiError::invalid(
            "Username is required when email address is not supplied.",
        ));
    }
    validate::username(&options.username)?;

    let login = if username_login {
        login_with_password(
            &state,
            Identity::Username(&options.username),
            account.password,
        )
        .await?
    } else {
        let email = account.email.to_lowercase();
        let identity = Identity::Email(&email);
        match find_active(&state, identity).await? {
            Some(found) => check_password(found, account.password).await?,
            None => {
                let hash = password::hash(account.password)
                    .await
                    .ok_or_else(|| ApiError::internal("Error finding or creating user account."))?;
                find_or_create(&state, identity, &options, Some(&hash)).await?
            }
        }
    };
    let (session, caller) = issue_session(&state, login, account.vars);
    hooks::after(&state, &call, caller, AuthenticateEmail, request, &session).await;
    Ok(Json(session))
}

/// An account that logged in, and whether it was just created.
struct Login {
    user_id: String,
    username: String,
    created: bool,
}

/// The account behind an identity, refusing banned ones.
async fn find_active(
    state: &AppState,
    identity: Identity<'_>,
) -> Result<Option<LoginRow>, ApiError> {
    let row = state
        .db
        .find_login(identity)
        .await
        .map_err(|e| ApiError::database("Error finding user account.", e))?;
    match row {
        Some(row) if row.disable_time != 0 => Err(ApiError::new(
            Code::PermissionDenied,
            "User account banned.",
        )),
        other => Ok(other),
    }
}

async fn check_password(row: LoginRow, given: String) -> Result<Login, ApiError> {
    let hash = row.password.unwrap_or_default();
    if hash.is_empty() || !password::verify(given, hash).await {
        return Err(ApiError::unauthenticated("Invalid credentials."));
    }
    Ok(Login {
        user_id: row.id,
        username: row.username,
        created: false,
    })
}

async fn login_with_password(
    state: &AppState,
    identity: Identity<'_>,
    given: String,
) -> Result<Login, ApiError> {
    match find_active(state, identity).await? {
        Some(row) => check_password(row, given).await,
        None => Err(ApiError::not_found("User account not found.")),
    }
}

/// Logs into the identity's account, creating it when allowed.
async fn find_or_create(
    state: &AppState,
    identity: Identity<'_>,
    options: &Options,
    password_hash: Option<&str>,
) -> Result<Login, ApiError> {
    if password_hash.is_none()
        && let Some(row) = find_active(state, identity).await?
    {
        return Ok(Login {
            user_id: row.id,
            username: row.username,
            created: false,
        });
    }
    if !options.create {
        return Err(ApiError::not_found("User account not found."));
    }
    let user_id = Uuid::new_v4().to_string();
    let username = if options.username.is_empty() {
        validate::generate_username()
    } else {
        options.username.clone()
    };
    let created = state
        .db
        .create_user(NewUser {
            id: &user_id,
            username: &username,
            identity,
            password: password_hash,
        })
        .await;
    match created {
        Ok(()) => Ok(Login {
            user_id,
            username,
            created: true,
        }),
        Err(WriteError::UsernameTaken) => Err(ApiError::new(
            Code::AlreadyExists,
            "Username is already in use.",
        )),
        // Another request created the same identity a moment ago: log into that account.
        Err(WriteError::IdentityTaken) if password_hash.is_none() => {
            match find_active(state, identity).await? {
                Some(row) => Ok(Login {
                    user_id: row.id,
                    username: row.username,
                    created: false,
                }),
                None => Err(ApiError::internal(
                    "Error finding or creating user account.",
                )),
            }
        }
        Err(WriteError::IdentityTaken) => Err(ApiError::internal(
            "Error finding or creating user account.",
        )),
        Err(WriteError::Sql(e)) => Err(ApiError::database(
            "Error finding or creating user account.",
            e,
        )),
    }
}

/// A new token pair for a login, and the logged-in user as after hooks see the caller.
fn issue_session(
    state: &AppState,
    login: Login,
    vars: HashMap<String, String>,
) -> (api::Session, Caller) {
    let now = now_unix();
    if state.config.session.single_session
        && let Ok(user_id) = Uuid::parse_str(&login.user_id)
    {
        state.session_cache.revoke_all(user_id, now);
    }
    let tid = Uuid::new_v4().to_string();
    let pair = state.tokens.issue(
        &tid,
        &login.user_id,
        &login.username,
        vars.clone(),
        now,
        now,
    );
    let caller = Caller::User(UserSession {
        user_id: login.user_id,
        username: login.username,
        vars,
        expiry: pair.claims.exp,
        session_id: None,
    });
    let session = api::Session {
        created: login.created,
        token: pair.token,
        refresh_token: pair.refresh_token,
    };
    (session, caller)
}
