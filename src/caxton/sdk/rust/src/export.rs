//! What [`export_agent!`](crate::export_agent) expands to calls into: the ABI's exports.
//!
//! Not meant to be called directly; the functions are public only so the
//! macro can reach them from the agent's crate.

use std::alloc::{self, Layout};
use std::cell::UnsafeCell;
use std::thread::LocalKey;

use crate::agent::{Agent, Init};
use crate::json;
use crate::{log, set_identity, Level, Message};

/// The agent's single instance, owned by the `export_agent!` expansion.
///
/// An `UnsafeCell`, not a `RefCell`: a trap (a panic, exhausted fuel) ends a
/// handler without running destructors, and a `RefCell` would stay borrowed
/// for good, failing every later message. Nothing can alias the agent: wasm32
/// here has one thread, and the host never calls in while a handler runs.
pub type Slot<A> = LocalKey<UnsafeCell<Option<A>>>;

fn layout(len: usize) -> Option<Layout> {
    // Alignment 1: these are byte buffers. Size at least 1, as alloc requires.
    Layout::from_size_align(len.max(1), 1).ok()
}

/// `caxton_alloc(len)`: `len` writable bytes, or 0 when it cannot.
pub fn alloc(len: i32) -> i32 {
    if len < 0 {
        return 0;
    }
    match layout(len as usize) {
        // A null pointer from the allocator is the 0 the ABI asks for.
        Some(layout) => unsafe { alloc::alloc(layout) as usize as i32 },
        None => 0,
    }
}

/// Takes back a buffer the host filled: a copy of its bytes, the buffer freed
/// (ABI v1: the agent owns what `caxton_alloc` gave the host).
fn take(ptr: i32, len: i32) -> Vec<u8> {
    let len = len.max(0) as usize;
    let ptr = ptr as usize as *mut u8;
    if ptr.is_null() {
        return Vec::new();
    }
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    if let Some(layout) = layout(len) {
        unsafe { alloc::dealloc(ptr, layout) };
    }
    bytes
}

fn install_panic_hook() {
    // A panic traps (panic=abort on wasm32); log it first, so the reason is
    // on the agent's log and not only "unreachable executed".
    std::panic::set_hook(Box::new(|info| {
        log(Level::Error, &format!("panic: {}", info));
    }));
}

/// `caxton_init(ptr, len)`.
pub fn init<A: Agent>(slot: &'static Slot<A>, ptr: i32, len: i32) -> i32 {
    install_panic_hook();
    let bytes = take(ptr, len);
    let document = match json::parse_bytes(&bytes) {
        Ok(value) => value,
        Err(e) => {
            log(Level::Error, &format!("caxton_init: {}", e));
            return 1;
        }
    };
    let init = Init::from_value(&document);
    set_identity(&init.name, &init.id);
    let mut agent = A::default();
    if let Err(e) = agent.init(&init) {
        log(Level::Error, &format!("init failed: {}", e));
        return 1;
    }
    slot.with(|cell| unsafe { *cell.get() = Some(agent) });
    0
}

/// `caxton_handle(ptr, len)`.
pub fn handle<A: Agent>(slot: &'static Slot<A>, ptr: i32, len: i32) -> i32 {
    let bytes = take(ptr, len);
    let message = match Message::parse_bytes(&bytes) {
        Ok(message) => message,
        Err(e) => {
            log(Level::Error, &format!("caxton_handle: {}", e));
            return 1;
        }
    };
    slot.with(|cell| {
        // See `Slot` for why this cannot alias.
        let state = unsafe { &mut *cell.get() };
        // caxton_init is optional for the host: without it, the Default state.
        let agent = state.get_or_insert_with(A::default);
        match agent.handle(message) {
            Ok(()) => 0,
            Err(e) => {
                log(Level::Error, &format!("handler failed: {}", e));
                1
            }
        }
    })
}

/// Defines the ABI's exports (`caxton_alloc`, `caxton_init`, `caxton_handle`)
/// for an [`Agent`](crate::Agent) type; use it once, in the crate's root:
///
/// ```ignore
/// caxton::export_agent!(MyAgent);
/// ```
///
/// `memory` is exported by the toolchain. On targets other than `wasm32` it
/// defines no exports, so the agent's crate also builds natively for tests.
#[macro_export]
macro_rules! export_agent {
    ($agent:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            ::std::thread_local! {
                static CAXTON_AGENT: ::std::cell::UnsafeCell<::std::option::Option<$agent>> =
                    ::std::cell::UnsafeCell::new(::std::option::Option::None);
            }

            #[no_mangle]
            pub extern "C" fn caxton_alloc(len: i32) -> i32 {
                $crate::export::alloc(len)
            }

            #[no_mangle]
            pub extern "C" fn caxton_init(ptr: i32, len: i32) -> i32 {
                $crate::export::init(&CAXTON_AGENT, ptr, len)
            }

            #[no_mangle]
            pub extern "C" fn caxton_handle(ptr: i32, len: i32) -> i32 {
                $crate::export::handle(&CAXTON_AGENT, ptr, len)
            }
        };

        // Natively there are no exports to call the agent from: this keeps the
        // type in use, so that a native build (unit tests) warns of no dead code.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __caxton_agent() -> $agent {
            <$agent as ::std::default::Default>::default()
        }
    };
}
