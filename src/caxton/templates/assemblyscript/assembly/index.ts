// __NAME__ - a Caxton agent (ABI v1) in AssemblyScript.
//
// init registers the capability "greet" and logs (info) "__NAME__ ready".
// A `request` with content {"name": "<someone>"} is answered with `inform`
// {"greeting": "Hello, <someone>!"}; one without a name with `not-understood`
// {"reason": "content needs a name"}. Other messages are logged and ignored.
import {
  Agent,
  JSON,
  log,
  Message,
  Performative,
  register,
  registerCapability,
  reply,
} from "caxton-sdk/assembly";
// The entry points the host calls; the SDK parses messages and calls the agent below.
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Greeter extends Agent {
  init(): void {
    const schema = JSON.parse(
      '{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}',
    );
    registerCapability("greet", "0.1.0", "Greets someone by name", schema);
    log.info(this.name + " ready");
  }

  handle(message: Message): void {
    if (!message.is(Performative.REQUEST)) {
      log.debug("ignoring " + message.performative);
      return;
    }
    const content = message.content;
    const name = content !== null ? content.getString("name") : null;
    if (name === null) {
      reply(message, Performative.NOT_UNDERSTOOD,
            JSON.object().setString("reason", "content needs a name"));
      return;
    }
    log.info("greeting " + name);
    reply(message, Performative.INFORM, JSON.object().setString("greeting", "Hello, " + name + "!"));
  }
}

register(new Greeter());
