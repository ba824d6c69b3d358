//! __NAME__ - a Caxton agent (ABI v1) in Rust.
//!
//! `init` registers the capability "greet" and logs (info) "__NAME__ ready".
//! A `request` with content {"name": "<someone>"} is answered with `inform`
//! {"greeting": "Hello, <someone>!"}; one without a name with `not-understood`
//! {"reason": "content needs a name"}. Other messages are logged and ignored.
//!
//! The SDK is in caxton-sdk/ (its README documents the API).

use caxton::request::{self, Answer};
use caxton::{debug, export_agent, info, json, Agent, Capability, Init, Message, Performative};

#[derive(Default)]
struct Greeter;

impl Agent for Greeter {
    fn init(&mut self, init: &Init) -> caxton::Result<()> {
        Capability::new("greet", "0.1.0")
            .description("Greets someone by name")
            .input_schema(json!({
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            }))
            .register()?;
        info!("{} ready", init.name);
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        if !message.is(Performative::Request) {
            debug!("ignoring {}", message.performative_str().unwrap_or("?"));
            return Ok(());
        }
        let name = match message.content()["name"].as_str() {
            Some(name) => name.to_string(),
            None => {
                return request::answer(
                    &message,
                    Answer::NotUnderstood("content needs a name".into()),
                )
            }
        };
        info!("greeting {}", name);
        let greeting = format!("Hello, {}!", name);
        request::answer(&message, Answer::Done(json!({ "greeting": greeting })))
    }
}

// The exports the host calls (caxton_alloc, caxton_init, caxton_handle).
export_agent!(Greeter);
