//! `/play`: the tic-tac-toe web client, embedded in the binary.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The routes of the web client.
pub fn routes() -> Router {
    Router::new()
        .route("/play", get(|| async { Redirect::permanent("/play/") }))
        .route("/play/", get(|| async { asset("") }))
        .route(
            "/play/{file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

fn asset(path: &str) -> Response {
    match tavern_tictactoe::web_asset(path) {
        Some((body, content_type)) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
