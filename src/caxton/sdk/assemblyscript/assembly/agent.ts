// The agent entry points of ABI v1 (caxton_alloc, caxton_init, caxton_handle) and
// the AssemblyScript runtime hooks they need (abort, trace, seed).
//
// Memory: the SDK is built with `--runtime minimal` (TLSF allocator plus a
// mark-and-sweep collector that runs only when asked). An agent runs one message
// at a time and holds nothing on the stack between messages, so the end of each
// entry point is the one moment where a full collection is both safe and cheap:
// what the handler allocated and dropped goes, what it kept in fields of its
// Agent (a global root) stays. That buys the incremental collector's safety
// without its shadow stack, which costs every function call some fuel.
//
// The buffer the host writes a message into comes from caxton_alloc as raw TLSF
// memory, outside the collector's reach: the entry point parses it and frees it,
// as ABI v1 says the agent owns it.

import { logAt, LogLevel, nowMs } from "./host";
import { JSON, JSONObject } from "./json";
import { Message } from "./message";

/**
 * An agent: override `init` (optional) and `handle`, then `register(new MyAgent())`
 * at the top level of the entry file. To fail a message (the host then answers a
 * waiting sender with `failure`), throw: the SDK's abort logs the reason and traps.
 */
export class Agent {
  /** This agent's name, as caxton_init gave it. */
  name: string = "";
  /** This instance's id, as caxton_init gave it. */
  id: string = "";
  /** The deployment's configuration object ({} when none was given). */
  config: JSONObject = new JSONObject();

  /** Called once, after name, id and config are set; throw to fail the start. */
  init(): void {}

  /** Called for every inbound message. */
  handle(message: Message): void {}
}

class FunctionAgent extends Agent {
  constructor(
    private onMessage: (message: Message, agent: Agent) => void,
    private onInit: ((agent: Agent) => void) | null,
  ) {
    super();
  }

  init(): void {
    const onInit = this.onInit;
    if (onInit !== null) onInit(this);
  }

  handle(message: Message): void {
    this.onMessage(message, this);
  }
}

let registered: Agent | null = null;

/** Makes `agent` the one this module runs; call it once, at the top level of the entry file. */
export function register(agent: Agent): void {
  registered = agent;
}

/** Registers plain functions instead of an Agent subclass. */
export function registerHandler(
  handle: (message: Message, agent: Agent) => void,
  init: ((agent: Agent) => void) | null = null,
): void {
  registered = new FunctionAgent(handle, init);
}

/** The registered agent; aborts when nothing was registered. */
export function currentAgent(): Agent {
  const agent = registered;
  if (agent === null) throw new Error("no agent registered: call register(new MyAgent())");
  return agent;
}

// ASC_RUNTIME: 0 stub, 1 minimal, 2 incremental (std/assembly/index.d.ts).
const MINIMAL_RUNTIME = 1;

function finish(code: i32): i32 {
  if (ASC_RUNTIME == MINIMAL_RUNTIME) __collect();
  return code;
}

/** ABI v1: `len` writable bytes for the host, or 0 when `len` is negative. */
export function caxton_alloc(len: i32): usize {
  if (len < 0) return 0;
  return heap.alloc(<usize>max(len, 1));
}

/** ABI v1: {"name": ..., "id": ..., "config": {...}} once after instantiation. */
export function caxton_init(ptr: usize, len: i32): i32 {
  const value = JSON.parseBytes(ptr, len);
  heap.free(ptr);
  const agent = currentAgent();
  if (value === null || !value.isObject) {
    logAt(LogLevel.Error, "caxton_init: not a JSON object: " + JSON.lastError);
    return finish(1);
  }
  const name = value.getString("name");
  if (name !== null) agent.name = name;
  const id = value.getString("id");
  if (id !== null) agent.id = id;
  const config = value.get("config");
  if (config !== null && config.isObject) agent.config = config.asObject();
  agent.init();
  return finish(0);
}

/** ABI v1: one inbound ACL message. */
export function caxton_handle(ptr: usize, len: i32): i32 {
  const message = Message.parseBytes(ptr, len);
  heap.free(ptr);
  if (message === null) {
    logAt(LogLevel.Error, "caxton_handle: not a JSON object: " + JSON.lastError);
    return finish(1);
  }
  currentAgent().handle(message);
  return finish(0);
}

// ---- runtime hooks, wired by asconfig.json's "use" ----

// Lazy: other modules' globals may abort while being initialised, before this one would be.
// @ts-ignore: decorator
@lazy let aborting = false;

/**
 * Replaces AssemblyScript's `abort` (an `env` import Caxton refuses): logs the
 * reason at error level through the host, then traps, which the host reports as
 * a handler error.
 */
export function caxtonAbort(
  message: string | null,
  fileName: string | null,
  line: u32,
  column: u32,
): void {
  // Composing the line allocates; if the abort came from the allocator, trap at once.
  if (!aborting) {
    aborting = true;
    let text = message !== null ? message : "abort";
    if (fileName !== null) {
      text += " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
    }
    logAt(LogLevel.Error, text);
    aborting = false;
  }
  unreachable();
}

/** Replaces `trace` (an `env` import): a debug log line with the values. */
export function caxtonTrace(
  message: string,
  n: i32 = 0,
  a0: f64 = 0,
  a1: f64 = 0,
  a2: f64 = 0,
  a3: f64 = 0,
  a4: f64 = 0,
): void {
  let text = message;
  const values: f64[] = [a0, a1, a2, a3, a4];
  for (let i = 0; i < n && i < 5; i++) text += " " + values[i].toString();
  logAt(LogLevel.Debug, text);
}

/** Replaces `seed` (an `env` import) for Math.random: the host's clock. */
export function caxtonSeed(): f64 {
  return <f64>nowMs();
}
