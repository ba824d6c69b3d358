//! The agent's own durable key-value store (host imports `kv_get`, `kv_set`,
//! `kv_delete`). Keys are text; values are bytes, with helpers for text and JSON.
//!
//! ```no_run
//! caxton::kv::set("rounds_done", "3")?;
//! assert_eq!(caxton::kv::get_string("rounds_done")?.as_deref(), Some("3"));
//! caxton::kv::delete("rounds_done")?;
//! # Ok::<(), caxton::Error>(())
//! ```

use crate::json::{self, Value};
use crate::{host, Error, Result};

/// The value stored under `key`, or `None` when there is none.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    host::kv_get(key.as_bytes()).map_err(|status| Error::Host {
        call: "kv_get",
        status,
    })
}

/// The value under `key` as UTF-8 text; an error if it is not UTF-8.
pub fn get_string(key: &str) -> Result<Option<String>> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::msg(format!("kv value of {:?} is not UTF-8", key))),
    }
}

/// The value under `key` parsed as JSON.
pub fn get_json(key: &str) -> Result<Option<Value>> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(json::parse_bytes(&bytes)?)),
    }
}

/// Stores `value` under `key` durably; an error when over quota or not permitted.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<()> {
    Error::check("kv_set", host::kv_set(key.as_bytes(), value.as_ref()))
}

/// Stores the JSON text of `value` under `key`.
pub fn set_json(key: &str, value: &Value) -> Result<()> {
    set(key, value.to_json())
}

/// Deletes `key`; deleting what is absent is not an error.
pub fn delete(key: &str) -> Result<()> {
    Error::check("kv_delete", host::kv_delete(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{json, mock};

    #[test]
    fn set_get_delete() {
        mock::reset();
        assert_eq!(get("a").unwrap(), None);
        set("a", "x").unwrap();
        set("b", [0u8, 255]).unwrap();
        set_json("c", &json!({"n": [1]})).unwrap();
        assert_eq!(get_string("a").unwrap().as_deref(), Some("x"));
        assert_eq!(get("b").unwrap(), Some(vec![0, 255]));
        assert!(get_string("b").is_err());
        assert_eq!(get_json("c").unwrap(), Some(json!({"n": [1]})));
        delete("a").unwrap();
        delete("a").unwrap();
        assert_eq!(get("a").unwrap(), None);
        mock::set_status(-2);
        assert_eq!(set("a", "y").unwrap_err().status(), Some(-2));
    }
}
