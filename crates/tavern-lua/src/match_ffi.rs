//! The hot paths of a Lua match written against Lua's C API instead of mlua's handles: the
//! tick itself (a call of `match_loop` with values the match keeps in the VM's registry), the
//! `messages` list it hands over, and the dispatcher's broadcast functions. Under a memory limit
//! mlua makes every value it pushes or reads a protected call of its own, and each call through
//! its handles goes through a lock, a guard and its reference thread: for an idle match that was
//! most of a tick, and for an echo match building the messages and reading broadcast arguments
//! were four fifths of it. Here a tick is a few registry reads and one `lua_pcall`, and the list
//! and the broadcasts are C functions that the call the script is in protects as a whole.
//!
//! These functions only use C API calls that cannot raise a Lua error while they hold Rust
//! values that need dropping (reads of tables and strings, light userdata): an error raised by
//! Lua (a memory error while building, a bad argument) happens with nothing of Rust's left on
//! the frame.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

use mlua::{Function, Lua, ffi};

use tavern_runtime::Presence;
use tavern_runtime::matches::{Broadcast, Dispatcher, MatchMessage};

/// The registry slots of one match's values that a tick reads (ids of the `RegistryKey`s the
/// match holds).
pub(crate) struct TickSlots {
    pub(crate) loop_fn: c_int,
    pub(crate) ctx: c_int,
    pub(crate) dispatcher: c_int,
    pub(crate) state: c_int,
    /// The empty list idle ticks share.
    pub(crate) empty: c_int,
    /// [`build_messages`].
    pub(crate) build: c_int,
    /// Where a failed tick leaves its error object.
    pub(crate) error: c_int,
}

/// How a tick's call went.
pub(crate) enum Ticked {
    /// `match_loop` returned `count` values; `ended` when there were none or the first (the
    /// state) was nil. Otherwise the state slot holds the new state.
    Returned { count: usize, ended: bool },
    /// The call raised an error; the error slot holds it.
    Failed,
    /// The script stored something in the shared empty list: the caller puts a new one in its
    /// slot and calls again.
    ListUsed,
}

/// Calls `match_loop(ctx, dispatcher, tick, state, messages)` on the VM's main thread.
///
/// # Safety
/// `state` is the main thread of a live VM whose registry holds `slots` (none of them nil), used
/// by this thread alone, with no call of it running. `messages` outlives the call.
pub(crate) unsafe fn tick(
    state: *mut ffi::lua_State,
    slots: &TickSlots,
    tick: i64,
    messages: &[MatchMessage],
) -> Ticked {
    // SAFETY: as the caller promises. Everything pushed before the protected calls is a read
    // of the registry or a number: nothing allocates outside them. Storing into an existing
    // registry slot does not allocate either.
    unsafe {
        let base = ffi::lua_gettop(state);
        if ffi::lua_checkstack(state, 8) == 0 {
            ffi::lua_pushstring(state, c"stack overflow".as_ptr());
            ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, slots.error.into());
            return Ticked::Failed;
        }
        for slot in [slots.loop_fn, slots.ctx, slots.dispatcher] {
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, slot.into());
        }
        ffi::lua_pushnumber(state, tick as f64);
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, slots.state.into());
        if messages.is_empty() {
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, slots.empty.into());
            ffi::lua_pushnil(state);
            if ffi::lua_next(state, -2) != 0 {
                ffi::lua_settop(state, base);
                return Ticked::ListUsed;
            }
        } else {
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, slots.build.into());
            ffi::lua_pushlightuserdata(state, messages.as_ptr().cast_mut().cast());
            ffi::lua_pushnumber(state, messages.len() as f64);
            if ffi::lua_pcall(state, 2, 1, 0) != ffi::LUA_OK {
                return failed(state, slots, base);
            }
        }
        if ffi::lua_pcall(state, 5, ffi::LUA_MULTRET, 0) != ffi::LUA_OK {
            return failed(state, slots, base);
        }
        let count = usize::try_from(ffi::lua_gettop(state) - base).unwrap_or(0);
        let ended = count == 0 || ffi::lua_type(state, base + 1) == ffi::LUA_TNIL;
        if !ended {
            ffi::lua_pushvalue(state, base + 1);
            ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, slots.state.into());
        }
        ffi::lua_settop(state, base);
        Ticked::Returned { count, ended }
    }
}

/// Moves the error object on top of the stack to the error slot and clears the stack.
unsafe fn failed(state: *mut ffi::lua_State, slots: &TickSlots, base: c_int) -> Ticked {
    // SAFETY: an existing registry slot; the stack holds the error on top.
    unsafe {
        ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, slots.error.into());
        ffi::lua_settop(state, base);
    }
    Ticked::Failed
}

/// The `messages` list of `match_loop` (Nakama's shape: `sender`, `op_code`, `data`,
/// `reliable`, `receive_time_ms`) from the `&[MatchMessage]` the light userdata at argument 1
/// points to (and argument 2 counts).
///
/// # Safety
/// Called by [`tick`] with a pointer to messages that outlive the call.
pub(crate) unsafe extern "C-unwind" fn build_messages(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: `tick` passes (light userdata, count) for a slice alive during the call; a
    // script cannot reach this function (only the registry holds it).
    unsafe {
        if ffi::lua_type(state, 1) != ffi::LUA_TLIGHTUSERDATA {
            ffi::lua_pushnil(state);
            return 1;
        }
        let start = ffi::lua_touserdata(state, 1) as *const MatchMessage;
        let count = ffi::lua_tonumber(state, 2) as usize;
        let messages = std::slice::from_raw_parts(start, count);
        ffi::lua_createtable(state, c_int::try_from(count).unwrap_or(0), 0);
        for (i, m) in messages.iter().enumerate() {
            ffi::lua_createtable(state, 0, 5);
            push_presence(state, &m.sender);
            ffi::lua_setfield(state, -2, c"sender".as_ptr());
            ffi::lua_pushnumber(state, m.op_code as f64);
            ffi::lua_setfield(state, -2, c"op_code".as_ptr());
            push_bytes(state, &m.data);
            ffi::lua_setfield(state, -2, c"data".as_ptr());
            ffi::lua_pushboolean(state, c_int::from(m.reliable));
            ffi::lua_setfield(state, -2, c"reliable".as_ptr());
            ffi::lua_pushnumber(state, m.receive_time_ms as f64);
            ffi::lua_setfield(state, -2, c"receive_time_ms".as_ptr());
            ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
        }
        1
    }
}

/// Pushes a presence table (`user_id`, `session_id`, `username`, `node`).
unsafe fn push_presence(state: *mut ffi::lua_State, p: &Presence) {
    // SAFETY: the caller has the stack slots (a C function gets LUA_MINSTACK).
    unsafe {
        ffi::lua_createtable(state, 0, 4);
        for (key, value) in [
            (c"user_id", &p.user_id),
            (c"session_id", &p.session_id),
            (c"username", &p.username),
            (c"node", &p.node),
        ] {
            push_bytes(state, value.as_bytes());
            ffi::lua_setfield(state, -2, key.as_ptr());
        }
    }
}

unsafe fn push_bytes(state: *mut ffi::lua_State, bytes: &[u8]) {
    // SAFETY: `bytes` is valid for its length; Lua copies it.
    unsafe { ffi::lua_pushlstring(state, bytes.as_ptr().cast::<c_char>(), bytes.len()) };
}

/// The upvalues of a broadcast function: where the running callback's dispatcher is, then the
/// presence field names (kept as Lua strings so reading a field allocates nothing).
const CURRENT: c_int = ffi::lua_upvalueindex(1);
const USER_ID: c_int = ffi::lua_upvalueindex(2);
const SESSION_ID: c_int = ffi::lua_upvalueindex(3);
const USERNAME: c_int = ffi::lua_upvalueindex(4);
const NODE: c_int = ffi::lua_upvalueindex(5);

/// `dispatcher.broadcast_message` and `dispatcher.broadcast_message_deferred` of a VM, acting on
/// the dispatcher `current` points to while a callback runs. The VM must not outlive
/// `current` (the match holds both, the VM first).
pub(crate) fn broadcast_functions(
    lua: &Lua,
    current: &AtomicPtr<Dispatcher<'static>>,
) -> mlua::Result<(Function, Function)> {
    let pointer = std::ptr::from_ref(current).cast_mut().cast::<c_void>();
    let make = |f: ffi::lua_CFunction| -> mlua::Result<Function> {
        // SAFETY: pushes five upvalues and a closure over them inside mlua's protected call.
        unsafe {
            lua.exec_raw((), |state| {
                ffi::lua_pushlightuserdata(state, pointer);
                for key in [c"user_id", c"session_id", c"username", c"node"] {
                    ffi::lua_pushstring(state, key.as_ptr());
                }
                ffi::lua_pushcclosure(state, f, 5);
            })
        }
    };
    Ok((make(broadcast_now)?, make(broadcast_deferred)?))
}

unsafe extern "C-unwind" fn broadcast_now(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `broadcast_functions`.
    unsafe { broadcast(state, false) }
}

unsafe extern "C-unwind" fn broadcast_deferred(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `broadcast_functions`.
    unsafe { broadcast(state, true) }
}

/// `(op_code, data, presences, sender)`: reads the arguments, sends, and returns nothing; a
/// bad argument or a call outside a callback raises a Lua error.
unsafe fn broadcast(state: *mut ffi::lua_State, deferred: bool) -> c_int {
    // SAFETY: `send` reads only; the error, if any, is raised once it has returned. A panic
    // must not unwind into Lua's frames: it becomes the Lua error.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
        send(state, deferred)
    }))
    .unwrap_or_else(|_| Err("the match dispatcher panicked".to_owned()));
    match outcome {
        Ok(()) => 0,
        // SAFETY: nothing is left on this frame but the message, which `raise` consumes.
        Err(message) => unsafe { raise(state, message) },
    }
}

/// Raises `message` as a Lua error. The message is copied into Lua and dropped before the jump.
unsafe fn raise(state: *mut ffi::lua_State, message: String) -> c_int {
    // SAFETY: a C function called by Lua; lua_error does not return.
    unsafe {
        push_bytes(state, message.as_bytes());
        drop(message);
        ffi::lua_error(state)
    }
}

unsafe fn send(state: *mut ffi::lua_State, deferred: bool) -> Result<(), String> {
    // SAFETY: upvalue 1 is the pointer `broadcast_functions` captured, alive while the VM is;
    // the reads below are of the call's own arguments.
    unsafe {
        let current =
            &*(ffi::lua_touserdata(state, CURRENT) as *const AtomicPtr<Dispatcher<'static>>);
        let op_code = match ffi::lua_type(state, 1) {
            ffi::LUA_TNUMBER => ffi::lua_tonumber(state, 1) as i64,
            _ => return Err("bad argument #1: expects an op code number".to_owned()),
        };
        let data = match ffi::lua_type(state, 2) {
            ffi::LUA_TNIL | ffi::LUA_TNONE => Vec::new(),
            ffi::LUA_TSTRING => string_at(state, 2).to_vec(),
            _ => return Err("expects data to be a string or nil".to_owned()),
        };
        let presences = match ffi::lua_type(state, 3) {
            ffi::LUA_TNIL | ffi::LUA_TNONE => None,
            ffi::LUA_TTABLE => Some(recipients(state, 3)?),
            _ => return Err("expects a valid set of presences".to_owned()),
        };
        let sender = match ffi::lua_type(state, 4) {
            ffi::LUA_TNIL | ffi::LUA_TNONE => None,
            ffi::LUA_TTABLE => Some(presence_at(state, 4, true)?),
            _ => return Err("expects each presence to be a table".to_owned()),
        };
        let pointer = current.load(Ordering::Acquire);
        if pointer.is_null() {
            return Err(
                "the match dispatcher can only be used while a match callback runs".to_owned(),
            );
        }
        // SAFETY: non-null only while `Current::during` holds the exclusive borrow of the
        // running callback's dispatcher, on this thread; nothing else uses it meanwhile.
        let dispatcher = &mut *pointer;
        let message = Broadcast {
            op_code,
            data,
            presences,
            sender,
            reliable: true,
        };
        if deferred {
            dispatcher
                .send_deferred(message)
                .map_err(|e| format!("error deferring message broadcast: {}", e.message))
        } else {
            dispatcher.send(message);
            Ok(())
        }
    }
}

/// The bytes of the string at `index` (its type checked by the caller).
unsafe fn string_at<'a>(state: *mut ffi::lua_State, index: c_int) -> &'a [u8] {
    let mut len = 0usize;
    // SAFETY: a string value: lua_tolstring neither converts nor allocates; the bytes live as
    // long as the value stays on the stack, longer than the caller's use.
    unsafe {
        let start = ffi::lua_tolstring(state, index, &mut len);
        if start.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(start.cast::<u8>(), len)
    }
}

/// The recipients listed in the table at `index` (1..n): their session ids and nodes are all
/// a broadcast needs, as in Nakama.
unsafe fn recipients(state: *mut ffi::lua_State, index: c_int) -> Result<Vec<Presence>, String> {
    // SAFETY: raw reads of a table argument; each pushed value is popped before the next.
    unsafe {
        let count = ffi::lua_objlen(state, index);
        let mut list = Vec::with_capacity(count);
        for i in 1..=count {
            ffi::lua_rawgeti(state, index, i as ffi::lua_Integer);
            let read = if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
                presence_at(state, -1, false)
            } else {
                Err("expects each presence to be a table".to_owned())
            };
            ffi::lua_settop(state, -2);
            list.push(read?);
        }
        Ok(list)
    }
}

/// The presence table at `index`; `full` reads the user id and username too (a sender's).
unsafe fn presence_at(
    state: *mut ffi::lua_State,
    index: c_int,
    full: bool,
) -> Result<Presence, String> {
    // SAFETY: raw gets with the interned field names kept as upvalues: no metamethod, no
    // allocation, so no Lua error while the strings read here are held.
    unsafe {
        let table = ffi::lua_absindex(state, index);
        let field = |key: c_int| -> String {
            ffi::lua_pushvalue(state, key);
            ffi::lua_rawget(state, table);
            let value = if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
                String::from_utf8_lossy(string_at(state, -1)).into_owned()
            } else {
                String::new()
            };
            ffi::lua_settop(state, -2);
            value
        };
        let presence = Presence {
            user_id: if full { field(USER_ID) } else { String::new() },
            session_id: field(SESSION_ID),
            username: if full { field(USERNAME) } else { String::new() },
            node: field(NODE),
        };
        if presence.session_id.is_empty() {
            return Err("expects each presence to have a valid session_id".to_owned());
        }
        Ok(presence)
    }
}
