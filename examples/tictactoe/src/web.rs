//! The web client's files, embedded in the binary: our page, script and style from `web/`, and
//! the ESM build of `@heroiclabs/nakama-js` that build.rs installed from the pinned lock file.

const INDEX_HTML: &[u8] = include_bytes!("../web/index.html");
const APP_JS: &[u8] = include_bytes!("../web/app.js");
const STYLE_CSS: &[u8] = include_bytes!("../web/style.css");
const NAKAMA_JS: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/node_modules/@heroiclabs/nakama-js/dist/nakama-js.esm.mjs"
));

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A file of the web client by its path under `/play/` (`""` is the page itself): its bytes and
/// content type, or `None` for any other path.
///
/// ```
/// let (page, content_type) = tavern_tictactoe::web_asset("").unwrap();
/// assert_eq!(content_type, "text/html; charset=utf-8");
/// assert!(page.starts_with(b"<!doctype html>"));
/// assert!(tavern_tictactoe::web_asset("../Cargo.toml").is_none());
/// ```
pub fn web_asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    match path {
        "" | "index.html" => Some((INDEX_HTML, HTML)),
        "app.js" => Some((APP_JS, JAVASCRIPT)),
        "style.css" => Some((STYLE_CSS, CSS)),
        "nakama-js.mjs" => Some((NAKAMA_JS, JAVASCRIPT)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_there() {
        for (path, kind) in [
            ("index.html", HTML),
            ("app.js", JAVASCRIPT),
            ("style.css", CSS),
            ("nakama-js.mjs", JAVASCRIPT),
        ] {
            let (bytes, content_type) = web_asset(path).unwrap();
            assert!(!bytes.is_empty(), "{path}");
            assert_eq!(content_type, kind, "{path}");
        }
        assert_eq!(web_asset(""), web_asset("index.html"));
        assert_eq!(web_asset("nope.js"), None);
    }

    #[test]
    fn the_page_loads_the_script_that_imports_the_client() {
        let page = std::str::from_utf8(INDEX_HTML).unwrap();
        assert!(page.contains(r#"src="/play/app.js""#));
        assert!(page.contains(r#"href="/play/style.css""#));
        let app = std::str::from_utf8(APP_JS).unwrap();
        assert!(app.contains(r#"from "./nakama-js.mjs""#));
        let client = std::str::from_utf8(NAKAMA_JS).unwrap();
        assert!(
            client.contains("class WebSocketAdapterText")
                || client.contains("WebSocketAdapterText")
        );
    }
}
