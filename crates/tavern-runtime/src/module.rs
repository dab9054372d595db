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
}

/// Where a registration came from, which decides who wins when two register the same thing.
///
/// Nakama lets Go code win over Lua code; Tavern's Rust modules play Go's part. Modules bundled
/// with the `tavern` binary as examples give way to Lua modules, so that a game's Lua code can
/// replace them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A game's Rust module: wins over Lua.
    Native,
    /// An example bundled with the server: Lua replaces it.
    Bundled,
    /// A Lua module from `runtime.path`.
    Lua,
}

impl Module {
    /// A module called `name` (used in logs) whose callbacks `init` registers.
    pub const fn new(name: &'static str, init: InitFn) -> Module {
        Module {
            name,
            init,
            bundled: false,
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

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
