//! Installs the web client's one dependency, `@heroiclabs/nakama-js`, at build time: the pinned
//! `web/package.json` and `web/package-lock.json` are copied into OUT_DIR and `npm ci` runs
//! there, so src/web.rs can embed the client's ESM build without the repository carrying it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const MANIFESTS: [&str; 2] = ["package.json", "package-lock.json"];
const CLIENT: &str = "node_modules/@heroiclabs/nakama-js/dist/nakama-js.esm.mjs";

fn main() {
    let web = Path::new("web");
    for file in [
        "package.json",
        "package-lock.json",
        "index.html",
        "app.js",
        "style.css",
    ] {
        println!("cargo::rerun-if-changed=web/{file}");
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lock = fs::read(web.join("package-lock.json")).expect("read web/package-lock.json");
    // Already installed from this very lock file (the script reran for another reason).
    if out.join(CLIENT).is_file()
        && fs::read(out.join("package-lock.json")).ok() == Some(lock.clone())
    {
        return;
    }
    for file in MANIFESTS {
        fs::copy(web.join(file), out.join(file))
            .unwrap_or_else(|e| panic!("copy web/{file} into {}: {e}", out.display()));
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let output = Command::new(npm)
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(&out)
        .env("SCARF_ANALYTICS", "false")
        .env("npm_config_update_notifier", "false")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "tavern-tictactoe needs npm (Node.js 20 or later) to fetch @heroiclabs/nakama-js \
                 for the /play web client, and running `{npm}` failed: {e}. Install Node.js and \
                 npm (Debian: `apt-get install -y nodejs npm`) and build again."
            )
        });
    if !output.status.success() {
        panic!(
            "`npm ci` for the /play web client failed ({}) in {}:\n{}\n{}",
            output.status,
            out.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    assert!(
        out.join(CLIENT).is_file(),
        "`npm ci` succeeded but {CLIENT} is missing: is the pinned nakama-js version an ESM build?"
    );
}
