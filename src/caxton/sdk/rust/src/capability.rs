//! Capability registration (host import `register_capability`).

use crate::json::{Map, Value};
use crate::{host, Error, Result};

/// A capability this agent declares, usually from [`crate::Agent::init`]:
///
/// ```no_run
/// use caxton::{json, Capability};
/// Capability::new("sum", "1.0.0")
///     .description("adds up a list of integers")
///     .input_schema(json!({"type": "object", "properties": {"numbers": {"type": "array"}}}))
///     .register()?;
/// # Ok::<(), caxton::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Capability {
    fields: Map,
}

impl Capability {
    /// A capability with a name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Capability {
        let mut fields = Map::new();
        fields.insert("name", name.into());
        fields.insert("version", version.into());
        Capability { fields }
    }

    /// What it does, for people and for agents that look it up.
    pub fn description(mut self, text: impl Into<String>) -> Capability {
        self.fields.insert("description", text.into());
        self
    }

    /// The JSON Schema of the content it expects.
    pub fn input_schema(mut self, schema: Value) -> Capability {
        self.fields.insert("input_schema", schema);
        self
    }

    /// The JSON the host receives.
    pub fn to_json(&self) -> String {
        self.fields.to_json()
    }

    /// Declares it to the host.
    pub fn register(&self) -> Result<()> {
        Error::check(
            "register_capability",
            host::register_capability(self.to_json().as_bytes()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{json, mock};

    #[test]
    fn registers_the_json() {
        mock::reset();
        Capability::new("sum", "1.0")
            .description("adds")
            .input_schema(json!({"type": "object"}))
            .register()
            .unwrap();
        assert_eq!(
            mock::capabilities(),
            [
                json!({"name": "sum", "version": "1.0", "description": "adds", "input_schema": {"type": "object"}})
            ]
        );
    }
}
