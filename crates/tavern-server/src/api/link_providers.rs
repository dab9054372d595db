//! `POST /v2/account/link/{apple,facebook,facebookinstantgame,gamecenter,google,steam}` and
//! their unlinks. Tavern has no social configuration and calls no outside service, so it
//! answers as Nakama does when the provider is not configured or its check fails: the input
//! checks first, then `FailedPrecondition` (Apple, Steam) or `Unauthenticated` (the others) for
//! a link. An unlink without a token needs no provider: it clears the account's id, keeping the
//! last way to log in (403) as Nakama.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;
use tavern_runtime::Code;
use tavern_runtime::operation::{
    LinkApple, LinkFacebook, LinkFacebookInstantGame, LinkGameCenter, LinkGoogle, LinkSteam,
    UnlinkApple, UnlinkFacebook, UnlinkFacebookInstantGame, UnlinkGameCenter, UnlinkGoogle,
    UnlinkSteam,
};

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, Params, Session};
use super::hooks;
use super::link::unlink_provider;
use crate::runtime::session_caller;
use crate::state::AppState;
use crate::storage::links::LinkColumn;

type Empty = Result<Json<serde_json::Value>, ApiError>;

fn not_configured(provider: &str) -> ApiError {
    ApiError::new(
        Code::FailedPrecondition,
        format!("{provider} authentication is not configured."),
    )
}

fn not_authenticated(profile: &str) -> ApiError {
    ApiError::unauthenticated(format!("Could not authenticate {profile} profile."))
}

fn required(what: &str) -> ApiError {
    ApiError::invalid(format!("{what} is required."))
}

/// Nakama's input checks of a Game Center identity, in its order.
fn game_center_fields(account: &api::AccountGameCenter) -> Result<(), ApiError> {
    let missing = [
        (account.bundle_id.is_empty(), "GameCenter bundle ID"),
        (account.player_id.is_empty(), "GameCenter player ID"),
        (
            account.public_key_url.is_empty(),
            "GameCenter public key URL",
        ),
        (account.salt.is_empty(), "GameCenter salt"),
        (account.signature.is_empty(), "GameCenter signature"),
        (account.timestamp_seconds == 0, "GameCenter timestamp"),
    ];
    match missing.iter().find(|(is_missing, _)| *is_missing) {
        Some((_, what)) => Err(required(what)),
        None => Ok(()),
    }
}

pub async fn link_apple(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountApple>,
) -> Empty {
    let caller = session_caller(&session);
    let _account = hooks::before(&state, &call, caller, LinkApple, account).await?;
    Err(not_configured("Apple"))
}

pub async fn link_facebook(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    Body(account): Body<api::AccountFacebook>,
) -> Empty {
    let request = api::LinkFacebookRequest {
        account: Some(account),
        sync: params.bool(&["sync"])?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller, LinkFacebook, request).await?;
    if request.account.is_none_or(|a| a.token.is_empty()) {
        return Err(required("Facebook access token"));
    }
    Err(not_authenticated("Facebook"))
}

pub async fn link_facebook_instant_game(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountFacebookInstantGame>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller, LinkFacebookInstantGame, account).await?;
    if account.signed_player_info.is_empty() {
        return Err(required("Signed Player Info for a Facebook Instant Game"));
    }
    Err(not_authenticated("Facebook Instant Game"))
}

pub async fn link_game_center(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountGameCenter>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller, LinkGameCenter, account).await?;
    game_center_fields(&account)?;
    Err(not_authenticated("GameCenter"))
}

pub async fn link_google(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountGoogle>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller, LinkGoogle, account).await?;
    if account.token.is_empty() {
        return Err(required("Google access token"));
    }
    Err(not_authenticated("Google"))
}

pub async fn link_steam(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::LinkSteamRequest>,
) -> Empty {
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller, LinkSteam, request).await?;
    if request.account.is_none_or(|a| a.token.is_empty()) {
        return Err(required("Steam access token"));
    }
    Err(not_configured("Steam"))
}

/// An unlink: with a token (or a full Game Center identity) the provider would have to check
/// it, which fails here; without, the account's id for the provider is cleared.
async fn unlink<Op>(
    state: &AppState,
    session: &Session,
    call: &CallInfo,
    operation: Op,
    request: Op::Request,
    needs_check: impl FnOnce(&Op::Request) -> Option<&'static str>,
    column: LinkColumn,
) -> Empty
where
    Op: tavern_runtime::operation::Operation<Response = ()>,
{
    let caller = session_caller(session);
    let request = hooks::before(state, call, caller.clone(), operation, request).await?;
    if let Some(profile) = needs_check(&request) {
        return Err(not_authenticated(profile));
    }
    unlink_provider(state, session.user_id, column).await?;
    hooks::after(state, call, caller, operation, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn unlink_apple(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountApple>,
) -> Empty {
    let check = |a: &api::AccountApple| (!a.token.is_empty()).then_some("Apple");
    unlink(
        &state,
        &session,
        &call,
        UnlinkApple,
        account,
        check,
        LinkColumn::Apple,
    )
    .await
}

pub async fn unlink_facebook(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountFacebook>,
) -> Empty {
    let check = |a: &api::AccountFacebook| (!a.token.is_empty()).then_some("Facebook");
    let column = LinkColumn::Facebook;
    unlink(
        &state,
        &session,
        &call,
        UnlinkFacebook,
        account,
        check,
        column,
    )
    .await
}

pub async fn unlink_facebook_instant_game(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountFacebookInstantGame>,
) -> Empty {
    let check = |a: &api::AccountFacebookInstantGame| {
        (!a.signed_player_info.is_empty()).then_some("Facebook Instant Game")
    };
    let (op, column) = (UnlinkFacebookInstantGame, LinkColumn::FacebookInstantGame);
    unlink(&state, &session, &call, op, account, check, column).await
}

pub async fn unlink_game_center(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountGameCenter>,
) -> Empty {
    let check = |a: &api::AccountGameCenter| game_center_fields(a).is_ok().then_some("GameCenter");
    let column = LinkColumn::GameCenter;
    unlink(
        &state,
        &session,
        &call,
        UnlinkGameCenter,
        account,
        check,
        column,
    )
    .await
}

pub async fn unlink_google(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountGoogle>,
) -> Empty {
    let check = |a: &api::AccountGoogle| (!a.token.is_empty()).then_some("Google");
    unlink(
        &state,
        &session,
        &call,
        UnlinkGoogle,
        account,
        check,
        LinkColumn::Google,
    )
    .await
}

pub async fn unlink_steam(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountSteam>,
) -> Empty {
    let check = |a: &api::AccountSteam| (!a.token.is_empty()).then_some("Steam");
    unlink(
        &state,
        &session,
        &call,
        UnlinkSteam,
        account,
        check,
        LinkColumn::Steam,
    )
    .await
}
