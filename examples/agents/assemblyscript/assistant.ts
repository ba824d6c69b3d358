// assistant - FIPA Request on RequestParticipant, with a tool call in the middle:
// asked the time, it agrees at once and informs when the MCP tool has answered.
//
// init registers the capability "current-time" (version 1.0.0, input
// {"timezone": string}) and logs (info) "assistant ready".
// - `request` with content {"timezone": "<IANA name>"}: counts the request in kv
//   "requests", calls the tool "time/get_current_time" with {"timezone": ...} and
//   reply_with "time/<n>", answers `agree`, and keeps the request until the result.
//   Other content is answered with `refuse` {"reason": "content needs a timezone"}.
// - the tool's answer: `inform` {"timezone", "time": <the result's text>, "structured"?}
//   to the original requester, threaded to the request; a tool failure becomes
//   `failure` {"reason": <why>}.
import {
  callTool,
  JSON,
  kv,
  log,
  Message,
  Outcome,
  register,
  registerCapability,
  RequestParticipant,
  ToolResult,
} from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

const TOOL = "time/get_current_time";

class Assistant extends RequestParticipant {
  init(): void {
    const schema = JSON.parse(
      '{"type":"object","properties":{"timezone":{"type":"string"}},"required":["timezone"]}',
    );
    if (registerCapability("current-time", "1.0.0", "The time now in a time zone", schema) < 0) {
      log.warn("assistant: capability not registered");
    }
    log.info("assistant ready");
  }

  perform(request: Message): Outcome {
    const content = request.content;
    const timezone = content !== null ? content.getString("timezone") : null;
    if (timezone === null) return Outcome.refused("content needs a timezone");
    const counted = kv.getString("requests");
    const n = (counted !== null ? I64.parseInt(counted) : 0) + 1;
    kv.setString("requests", n.toString());
    const key = "time/" + n.toString();
    const status = callTool(TOOL, JSON.object().setString("timezone", timezone), key);
    if (status < 0) return Outcome.failed("the tool call was refused (" + status.toString() + ")");
    log.info("asked " + TOOL + " for " + timezone + " as " + key);
    return Outcome.later(key);
  }

  toolResult(result: ToolResult): void {
    const request = this.pending(result.replyWith);
    if (request === null) {
      log.warn("assistant: a tool answer nobody waits for: " + result.replyWith);
      return;
    }
    if (!result.ok) {
      this.complete(result.replyWith, Outcome.failed(result.reason));
      return;
    }
    const answer = JSON.object()
      .setString("timezone", request.content!.getString("timezone")!)
      .setString("time", result.text);
    const structured = result.structured;
    if (structured !== null) answer.set("structured", structured);
    this.complete(result.replyWith, Outcome.done(answer));
  }
}

register(new Assistant());
