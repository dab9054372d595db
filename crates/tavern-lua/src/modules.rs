//! The `.lua` files under `runtime.path`, named as `require` knows them.

use std::path::{Path, PathBuf};

/// One Lua source file.
#[derive(Debug, Clone)]
pub struct LuaModule {
    /// The `require` name: the path below the root without `.lua`, folders joined by dots.
    pub name: String,
    /// The file, for error messages.
    pub path: PathBuf,
    pub source: Vec<u8>,
}

/// Every `.lua` file under `root` (subfolders too), sorted by name. A missing root has none.
pub fn scan(root: &Path) -> Result<Vec<LuaModule>, String> {
    let mut modules = Vec::new();
    if root.is_dir() {
        walk(root, root, &mut modules)?;
    }
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(modules)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<LuaModule>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let is_lua = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("lua"));
        if !is_lua {
            continue;
        }
        let source =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let relative = path.strip_prefix(root).unwrap_or(&path).with_extension("");
        let name = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join(".");
        out.push(LuaModule { name, path, source });
    }
    Ok(())
}
