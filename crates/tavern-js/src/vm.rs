//! One JavaScript VM: a QuickJS runtime and context with the standard built-ins only (no file,
//! network or timer functions), a memory limit and an instruction budget per call, the entry
//! file evaluated in strict mode as Nakama evaluates it, and `logger` and `nk` made once.

use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rquickjs::{Context, Ctx, Object, Persistent, Runtime, Value, qjs};

use crate::Shared;

/// The stack one call may use. Calls run on threads with at least 2 MiB of stack.
const STACK_BYTES: usize = 1024 * 1024;

/// A VM and what its calls need.
pub(crate) struct Vm {
    // Field order is drop order: the saved values go before their context and runtime.
    base: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    /// Interrupt checks passed in the current call (shared with the interrupt handler).
    checks: Arc<AtomicU64>,
    /// Checks one call may pass; 0 for no limit.
    max_checks: u64,
}

// SAFETY: with rquickjs's `parallel` feature the runtime and context are `Send`, every use of
// them takes the runtime's lock, and the saved value belongs to this VM's runtime: the three move
// between threads together, and one thread at a time uses them (`&self` calls run under the lock).
unsafe impl Send for Vm {}

/// The text of an error made by running out of the instruction budget.
pub(crate) const BUDGET_EXCEEDED: &str = "JavaScript call exceeded its instruction budget";

impl Vm {
    /// A fresh VM with the entry file evaluated.
    pub(crate) fn new(shared: &Arc<Shared>) -> Result<Vm, String> {
        let runtime = Runtime::new().map_err(|e| e.to_string())?;
        if shared.settings.memory_limit > 0 {
            runtime.set_memory_limit(shared.settings.memory_limit);
        }
        runtime.set_max_stack_size(STACK_BYTES);
        let checks = Arc::new(AtomicU64::new(0));
        // QuickJS calls the handler about every 10,000 jumps and calls.
        let max_checks = shared.settings.instruction_budget.div_ceil(10_000);
        if max_checks > 0 {
            let counter = checks.clone();
            runtime.set_interrupt_handler(Some(Box::new(move || {
                counter.fetch_add(1, Ordering::Relaxed) >= max_checks
            })));
        }
        let context = Context::full(&runtime).map_err(|e| e.to_string())?;
        let base = context.with(|ctx| -> Result<_, String> {
            evaluate(&ctx, &shared.file_name, &shared.source)?;
            let base = Object::new(ctx.clone()).map_err(|e| e.to_string())?;
            let logger = crate::logger::object(&ctx).map_err(|e| e.to_string())?;
            base.set("logger", logger).map_err(|e| e.to_string())?;
            base.set("nk", Object::new(ctx.clone()).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            Ok(Persistent::save(&ctx, base))
        })?;
        runtime.run_gc();
        Ok(Vm {
            base,
            context,
            runtime,
            checks,
            max_checks,
        })
    }

    /// Runs `f` in the VM as one call: the instruction budget is full again.
    pub(crate) fn call<R>(&self, f: impl for<'js> FnOnce(&Ctx<'js>, Base<'js>) -> R) -> R {
        self.checks.store(0, Ordering::Relaxed);
        self.context.with(|ctx| {
            let base = self.base.clone().restore(&ctx).ok();
            f(&ctx, Base(base))
        })
    }

    /// Whether the last call ran out of its instruction budget.
    pub(crate) fn budget_exceeded(&self) -> bool {
        self.max_checks > 0 && self.checks.load(Ordering::Relaxed) >= self.max_checks
    }

    /// Bytes the VM holds, after collecting cycles.
    pub(crate) fn collect(&self) -> usize {
        self.runtime.run_gc();
        usize::try_from(self.runtime.memory_usage().malloc_size).unwrap_or(usize::MAX)
    }
}

/// The values every call hands its function: `logger` and `nk`.
pub(crate) struct Base<'js>(Option<Object<'js>>);

impl<'js> Base<'js> {
    /// The value saved under `name` (`logger`, `nk`); undefined if missing.
    pub(crate) fn get(&self, ctx: &Ctx<'js>, name: &str) -> Value<'js> {
        self.0
            .as_ref()
            .and_then(|o| o.get(name).ok())
            .unwrap_or_else(|| Value::new_undefined(ctx.clone()))
    }
}

/// Evaluates `source` as a global script in strict mode, as Nakama compiles the entry file, with
/// `file_name` in stack traces.
fn evaluate(ctx: &Ctx<'_>, file_name: &str, source: &[u8]) -> Result<(), String> {
    let name = CString::new(file_name).map_err(|e| e.to_string())?;
    let code = CString::new(source).map_err(|_| "the JavaScript file contains a NUL byte")?;
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_STRICT) as i32;
    // SAFETY: both strings are NUL-terminated and live across the call; the returned value is
    // owned and handed to `Value::from_raw`, which frees it.
    let value = unsafe {
        qjs::JS_Eval(
            ctx.as_raw().as_ptr(),
            code.as_ptr(),
            source.len() as _,
            name.as_ptr(),
            flags,
        )
    };
    // SAFETY: `value` came from this context and is owned by us.
    if unsafe { qjs::JS_IsException(value) } {
        let thrown = ctx.catch();
        return Err(crate::errors::describe(ctx, &thrown));
    }
    drop(unsafe { Value::from_raw(ctx.clone(), value) });
    Ok(())
}
