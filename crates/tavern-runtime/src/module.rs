//! A module: a named init function that registers a game's callbacks.

use crate::{Initializer, RuntimeError};

/// The signature of a module's init function.
pub type InitFn = fn(&mut Initializer<'_>) -> Result<(), RuntimeError>;

/// A named unit of game code. The server calls its init function once at start, in the order
/// the modules are given; an error stops the start.
///
/// ```
/// use tavern_runtime::{Initializer, Module, RuntimeError};
///
/// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
///     init.register_rpc("hello", |_ctx, _nk, _payload| async { Ok("\"hi\"".to_owned()) });
///     Ok(())
/// }
///
/// pub const MY_GAME: Module = Module::new("my_game", init);
/// assert_eq!(MY_GAME.name(), "my_game");
/// ```
#[derive(Clone, Copy)]
pub struct Module {
    name: &'static str,
    init: InitFn,
    bundled: bool,
    opt_in: bool,
}

/// Where a registration came from, which decides who wins when two register the same thing.
///
/// Nakama lets Go code win over Lua code and Lua code over JavaScript; Tavern's Rust modules
/// play Go's part. Modules bundled with the `tavern` binary as examples give way to Lua and
/// JavaScript modules, so that a game's script code can replace them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A game's Rust module: wins over Lua.
    Native,
    /// An example bundled with the server: Lua replaces it.
    Bundled,
    /// A Lua module from `runtime.path`: wins over JavaScript.
    Lua,
    /// The JavaScript entry file of `runtime.path`.
    JavaScript,
}

impl Module {
    /// A module called `name` (used in logs) whose callbacks `init` registers.
    pub const fn new(name: &'static str, init: InitFn) -> Module {
        Module {
            name,
            init,
            bundled: false,
            opt_in: false,
        }
    }

    /// The same module marked as a bundled example: a Lua module registering the same RPC,
    /// hook or match name replaces its registration instead of giving way to it.
    pub const fn bundled(self) -> Module {
        Module {
            bundled: true,
            ..self
        }
    }

    /// The same module, loaded only when the configuration asks for it by name
    /// (`runtime.bundled_modules`, where `*` names every such module): the examples and test
    /// modules a binary carries but a plain start leaves off.
    pub const fn opt_in(self) -> Module {
        Module {
            opt_in: true,
            ..self
        }
    }

    /// Whether this module loads only when the configuration names it.
    pub fn is_opt_in(&self) -> bool {
        self.opt_in
    }

    /// Whether this module is a bundled example.
    pub fn origin(&self) -> Origin {
        if self.bundled {
            Origin::Bundled
        } else {
            Origin::Native
        }
    }

    /// The module's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn init_fn(&self) -> InitFn {
        self.init
    }
}

/// The modules to load: every module that is not [`Module::opt_in`], and the opt-in ones that
/// `wanted` names (`*` names them all), in the order given. A name in `wanted` that is no opt-in
/// module is an error naming it and the known ones.
pub fn select_modules(modules: &[Module], wanted: &[String]) -> Result<Vec<Module>, String> {
    let known: Vec<&str> = modules
        .iter()
        .filter(|m| m.opt_in)
        .map(|m| m.name)
        .collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|w| w.as_str() != "*" && !known.contains(&w.as_str()))
    {
        return Err(format!(
            "unknown bundled module {unknown:?}; this binary bundles: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
    }
    let all = wanted.iter().any(|w| w == "*");
    Ok(modules
        .iter()
        .filter(|m| !m.opt_in || all || wanted.iter().any(|w| w == m.name))
        .copied()
        .collect())
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(_: &mut crate::Initializer<'_>) -> Result<(), RuntimeError> {
        Ok(())
    }

    const GAME: Module = Module::new("game", init);
    const ECHO: Module = Module::new("echo", init).bundled().opt_in();
    const GUARD: Module = Module::new("guard", init).bundled().opt_in();

    fn names(modules: &[Module]) -> Vec<&'static str> {
        modules.iter().map(Module::name).collect()
    }

    #[test]
    fn opt_in_modules_load_only_when_named() {
        let all = [GAME, ECHO, GUARD];
        assert_eq!(names(&select_modules(&all, &[]).unwrap()), ["game"]);
        let wanted = ["guard".to_owned()];
        assert_eq!(
            names(&select_modules(&all, &wanted).unwrap()),
            ["game", "guard"]
        );
        let star = ["*".to_owned()];
        assert_eq!(
            names(&select_modules(&all, &star).unwrap()),
            ["game", "echo", "guard"]
        );
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_known_ones() {
        let error = select_modules(&[GAME, ECHO], &["game".to_owned()]).unwrap_err();
        assert_eq!(
            error,
            "unknown bundled module \"game\"; this binary bundles: echo"
        );
        let error = select_modules(&[GAME], &["x".to_owned()]).unwrap_err();
        assert!(error.ends_with("bundles: none"), "{error}");
    }
}
