// MCP tool calls and capability registration.
//
// A tool call never blocks: `callTool` returns at once and the answer arrives later
// as a message from the platform ("caxton") whose in_reply_to is the call's
// reply_with: an `inform` with {"tool", "content": [MCP content blocks],
// "structured"?} or a `failure` with {"error", "reason", "tool", "content"?}.

import { registerCapabilityJSON, toolCallJSON } from "./host";
import { JSON, JSONArray, JSONKind, JSONObject, JSONValue } from "./json";
import { Message, PLATFORM, Performative } from "./message";

/**
 * Calls `tool` ("<server>/<tool>") with `args` (a JSON object); 0 when accepted,
 * -4 when this agent may not call it. Pick a `replyWith` that tells the answer
 * apart from others, e.g. "weather/" + conversation id.
 */
export function callTool(tool: string, args: JSONValue, replyWith: string): i32 {
  const request = new JSONObject();
  request.setString("tool", tool);
  request.set("arguments", args);
  request.setString("reply_with", replyWith);
  return toolCallJSON(request);
}

/** The answer to a tool call, read from the platform's message. */
export class ToolResult {
  /** true for an `inform` (the tool ran and succeeded), false for a `failure`. */
  ok: bool = false;
  /** "<server>/<tool>". */
  tool: string = "";
  /** The reply_with the call was made with. */
  replyWith: string = "";
  /** MCP content blocks ({"type": "text", "text": ...} and others); may be empty. */
  content: JSONArray = new JSONArray();
  /** MCP structured content, when the tool gave some. */
  structured: JSONValue | null = null;
  /** For a failure: its class (e.g. "timeout", "tool-error", "not-permitted"). */
  error: string = "";
  /** For a failure: why, for people. */
  reason: string = "";

  constructor(public message: Message) {}

  /** The text blocks of the content, joined with newlines. */
  get text(): string {
    const parts: string[] = [];
    const items = this.content.items;
    for (let i = 0; i < items.length; i++) {
      const text = items[i].getString("text");
      if (text !== null) parts.push(text);
    }
    return parts.join("\n");
  }

  /** The tool answer `message` carries, or null when it is no tool answer. */
  static from(message: Message): ToolResult | null {
    if (!isToolAnswer(message)) return null;
    const result = new ToolResult(message);
    result.ok = message.is(Performative.INFORM);
    const inReplyTo = message.inReplyTo;
    result.replyWith = inReplyTo !== null ? inReplyTo : "";
    const content = message.content;
    if (content === null || !content.isObject) return result;
    const tool = content.getString("tool");
    result.tool = tool !== null ? tool : "";
    const blocks = content.get("content");
    if (blocks !== null && blocks.kind == JSONKind.Array) result.content = blocks.asArray();
    result.structured = content.get("structured");
    const error = content.getString("error");
    if (error !== null) result.error = error;
    const reason = content.getString("reason");
    if (reason !== null) result.reason = reason;
    return result;
  }
}

/** Whether `message` is the platform's answer to a tool call. */
export function isToolAnswer(message: Message): bool {
  if (!message.isFrom(PLATFORM) || message.inReplyTo === null) return false;
  if (!message.is(Performative.INFORM) && !message.is(Performative.FAILURE)) return false;
  if (message.param("x-caxton-tool") !== null) return true;
  const content = message.content;
  return content !== null && content.getString("tool") !== null;
}

/**
 * Declares a capability (usually from init): its name, version, description
 * and the JSON Schema of the input it takes. 0 when registered.
 */
export function registerCapability(
  name: string,
  version: string,
  description: string,
  inputSchema: JSONValue | null = null,
): i32 {
  const capability = new JSONObject();
  capability.setString("name", name);
  capability.setString("version", version);
  capability.setString("description", description);
  capability.set("input_schema", inputSchema !== null ? inputSchema : JSON.object());
  return registerCapabilityJSON(capability);
}
