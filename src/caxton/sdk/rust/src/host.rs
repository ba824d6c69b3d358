//! The host imports of module `caxton` (ABI v1), and a stand-in for native builds.
//!
//! On `wasm32` the functions below call the host. Anywhere else (`cargo test`
//! or `rustc --test` on the build machine) they talk to [`crate::mock`], an
//! in-memory host that records what the agent did, so SDK code and an agent's
//! own logic can be unit-tested natively.

#[cfg(target_arch = "wasm32")]
mod imports {
    // The symbols get their own names so that they cannot clash with libc's
    // `send` and `log`; `link_name` is the name of the import itself.
    #[link(wasm_import_module = "caxton")]
    extern "C" {
        #[link_name = "send"]
        pub fn caxton_send(ptr: *const u8, len: i32) -> i32;
        #[link_name = "log"]
        pub fn caxton_log(level: i32, ptr: *const u8, len: i32);
        #[link_name = "now_ms"]
        pub fn caxton_now_ms() -> i64;
        #[link_name = "kv_get"]
        pub fn caxton_kv_get(key: *const u8, key_len: i32, out: *mut u8, cap: i32) -> i32;
        #[link_name = "kv_set"]
        pub fn caxton_kv_set(key: *const u8, key_len: i32, value: *const u8, value_len: i32)
            -> i32;
        #[link_name = "kv_delete"]
        pub fn caxton_kv_delete(key: *const u8, key_len: i32) -> i32;
        #[link_name = "tool_call"]
        pub fn caxton_tool_call(ptr: *const u8, len: i32) -> i32;
        #[link_name = "register_capability"]
        pub fn caxton_register_capability(ptr: *const u8, len: i32) -> i32;
    }
}

/// A length as the ABI's i32; larger buffers cannot cross a wasm32 boundary anyway.
#[cfg(target_arch = "wasm32")]
fn len32(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn send(json: &[u8]) -> i32 {
    unsafe { imports::caxton_send(json.as_ptr(), len32(json)) }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: i32, text: &[u8]) {
    unsafe { imports::caxton_log(level, text.as_ptr(), len32(text)) }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn now_ms() -> i64 {
    unsafe { imports::caxton_now_ms() }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn kv_get(key: &[u8]) -> Result<Option<Vec<u8>>, i32> {
    // Most values are small: one call with a modest buffer, a second only when
    // the host says the value is larger (it then writes nothing).
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        let cap = buf.capacity().min(i32::MAX as usize) as i32;
        let n = unsafe { imports::caxton_kv_get(key.as_ptr(), len32(key), buf.as_mut_ptr(), cap) };
        if n == -1 {
            return Ok(None);
        }
        if n < 0 {
            return Err(n);
        }
        let n = n as usize;
        if n <= buf.capacity() {
            // The host wrote exactly n bytes into the buffer's spare capacity.
            unsafe { buf.set_len(n) };
            return Ok(Some(buf));
        }
        buf.reserve_exact(n);
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn kv_set(key: &[u8], value: &[u8]) -> i32 {
    unsafe { imports::caxton_kv_set(key.as_ptr(), len32(key), value.as_ptr(), len32(value)) }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn kv_delete(key: &[u8]) -> i32 {
    unsafe { imports::caxton_kv_delete(key.as_ptr(), len32(key)) }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn tool_call(json: &[u8]) -> i32 {
    unsafe { imports::caxton_tool_call(json.as_ptr(), len32(json)) }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn register_capability(json: &[u8]) -> i32 {
    unsafe { imports::caxton_register_capability(json.as_ptr(), len32(json)) }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::mock::{
    kv_delete, kv_get, kv_set, log, now_ms, register_capability, send, tool_call,
};
