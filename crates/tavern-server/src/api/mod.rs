//! The REST API on the socket port: routes, and the HTTP behaviour every route shares
//! (CORS, cache headers, body limits, Nakama's 404/501 bodies).

pub mod account;
pub mod authenticate;
pub mod call_info;
pub mod error;
pub mod event;
pub mod extract;
pub mod health;
pub mod hooks;
pub mod link;
pub mod link_providers;
pub mod matches;
pub mod matchmaker;
pub mod rpc;
pub mod session;
pub mod user;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tavern_runtime::Code;
use tower_http::cors::{Any, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;
use error::ApiError;

/// Every REST route, with the shared layers.
pub fn router(state: Arc<AppState>) -> Router {
    let rest = Router::new()
        .route("/healthcheck", get(health::healthcheck))
        .route(
            "/v2/account/authenticate/device",
            post(authenticate::device),
        )
        .route(
            "/v2/account/authenticate/custom",
            post(authenticate::custom),
        )
        .route("/v2/account/authenticate/email", post(authenticate::email))
        .route("/v2/account/session/refresh", post(session::refresh))
        .route("/v2/account/link/custom", post(link::custom))
        .route("/v2/account/link/device", post(link::device))
        .route("/v2/account/link/email", post(link::email))
        .route("/v2/account/unlink/custom", post(link::unlink_custom_route))
        .route("/v2/account/unlink/device", post(link::unlink_device_route))
        .route("/v2/account/unlink/email", post(link::unlink_email_route))
        .route("/v2/account/link/apple", post(link_providers::link_apple))
        .route(
            "/v2/account/unlink/apple",
            post(link_providers::unlink_apple),
        )
        .route(
            "/v2/account/link/facebook",
            post(link_providers::link_facebook),
        )
        .route(
            "/v2/account/unlink/facebook",
            post(link_providers::unlink_facebook),
        )
        .route(
            "/v2/account/link/facebookinstantgame",
            post(link_providers::link_facebook_instant_game),
        )
        .route(
            "/v2/account/unlink/facebookinstantgame",
            post(link_providers::unlink_facebook_instant_game),
        )
        .route(
            "/v2/account/link/gamecenter",
            post(link_providers::link_game_center),
        )
        .route(
            "/v2/account/unlink/gamecenter",
            post(link_providers::unlink_game_center),
        )
        .route("/v2/account/link/google", post(link_providers::link_google))
        .route(
            "/v2/account/unlink/google",
            post(link_providers::unlink_google),
        )
        .route("/v2/account/link/steam", post(link_providers::link_steam))
        .route(
            "/v2/account/unlink/steam",
            post(link_providers::unlink_steam),
        )
        .route("/v2/session/logout", post(session::logout))
        .route("/v2/event", post(event::event))
        .route(
            "/v2/account",
            get(account::get)
                .put(account::update)
                .delete(account::delete),
        )
        .route("/v2/user", get(user::get_users))
        .route("/v2/match", get(matches::list))
        .route("/v2/matchmaker/stats", get(matchmaker::stats))
        .route(
            "/v2/rpc/",
            get(rpc::call_without_id).post(rpc::call_without_id),
        )
        .route(
            "/v2/rpc/{*id}",
            get(rpc::call_with_id).post(rpc::call_with_id),
        )
        .merge(crate::social::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache, must-revalidate"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::VARY,
            HeaderValue::from_static("Accept-Encoding"),
        ))
        .layer(RequestDecompressionLayer::new())
        .route_layer(axum::middleware::from_fn(crate::telemetry::time_request));
    Router::new()
        .route("/", get(health::root))
        .route("/ws", get(crate::realtime::socket::handler))
        .merge(rest)
        .layer(cors())
        .with_state(state)
}

/// Any origin; the headers and methods Nakama's CORS middleware allows.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::USER_AGENT,
        ])
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(Code::Unimplemented, "Method Not Allowed")
}
