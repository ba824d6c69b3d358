// The host functions of Caxton ABI v1 (module "caxton"), and safe wrappers that take
// AssemblyScript strings and buffers instead of pointers.
//
// A function declared here is imported only when an agent's code can reach it, so an
// agent that never calls tool_call has no such import.

import { JSON, JSONValue } from "./json";
import { Writer } from "./writer";

// @ts-ignore: decorator
@external("caxton", "send")
declare function host_send(ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external("caxton", "log")
declare function host_log(level: i32, ptr: usize, len: i32): void;
// @ts-ignore: decorator
@external("caxton", "now_ms")
declare function host_now_ms(): i64;
// @ts-ignore: decorator
@external("caxton", "kv_get")
declare function host_kv_get(key: usize, keyLen: i32, out: usize, cap: i32): i32;
// @ts-ignore: decorator
@external("caxton", "kv_set")
declare function host_kv_set(key: usize, keyLen: i32, value: usize, valueLen: i32): i32;
// @ts-ignore: decorator
@external("caxton", "kv_delete")
declare function host_kv_delete(key: usize, keyLen: i32): i32;
// @ts-ignore: decorator
@external("caxton", "tool_call")
declare function host_tool_call(ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external("caxton", "register_capability")
declare function host_register_capability(ptr: usize, len: i32): i32;

/** What send, kv.set, callTool and registerCapability answer (ABI v1). */
export namespace Status {
  export const OK: i32 = 0;
  export const MALFORMED: i32 = -1;
  export const TOO_LARGE: i32 = -2;
  export const MAILBOX_FULL: i32 = -3;
  export const NOT_PERMITTED: i32 = -4;
}

/** The levels of the `log` import. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Sends serialised JSON (one ACL message object); the host's status code. */
export function sendJSON(value: JSONValue): i32 {
  const writer = new Writer();
  writer.value(value);
  return host_send(writer.dataStart, writer.length);
}

/** Sends a message already written as JSON text. */
export function sendText(json: string): i32 {
  const bytes = String.UTF8.encode(json);
  return host_send(changetype<usize>(bytes), bytes.byteLength);
}

export function toolCallJSON(value: JSONValue): i32 {
  const writer = new Writer();
  writer.value(value);
  return host_tool_call(writer.dataStart, writer.length);
}

export function registerCapabilityJSON(value: JSONValue): i32 {
  const writer = new Writer();
  writer.value(value);
  return host_register_capability(writer.dataStart, writer.length);
}

export function logAt(level: i32, text: string): void {
  const bytes = String.UTF8.encode(text);
  host_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Wall-clock milliseconds since the Unix epoch (the host's clock). */
export function nowMs(): i64 {
  return host_now_ms();
}

/** A line at each level; the host attaches it to the current trace. */
export namespace log {
  export function trace(text: string): void {
    logAt(LogLevel.Trace, text);
  }
  export function debug(text: string): void {
    logAt(LogLevel.Debug, text);
  }
  export function info(text: string): void {
    logAt(LogLevel.Info, text);
  }
  export function warn(text: string): void {
    logAt(LogLevel.Warn, text);
  }
  export function error(text: string): void {
    logAt(LogLevel.Error, text);
  }
}

/** The agent's own durable key-value store: string keys, byte or string values. */
export namespace kv {
  /** The value of `key`, or null when absent. */
  export function get(key: string): ArrayBuffer | null {
    const k = String.UTF8.encode(key);
    let buffer = new ArrayBuffer(256);
    while (true) {
      const n = host_kv_get(changetype<usize>(k), k.byteLength, changetype<usize>(buffer),
                            buffer.byteLength);
      if (n < 0) return null;
      // kv_get writes nothing when the value does not fit: ask again with room for it.
      if (n > buffer.byteLength) {
        buffer = new ArrayBuffer(n);
        continue;
      }
      return n == buffer.byteLength ? buffer : buffer.slice(0, n);
    }
  }

  /** The value of `key` decoded as UTF-8, or null when absent. */
  export function getString(key: string): string | null {
    const value = get(key);
    return value === null ? null : String.UTF8.decode(value);
  }

  /** The value of `key` parsed as JSON, or null when absent or not JSON. */
  export function getJSON(key: string): JSONValue | null {
    const value = get(key);
    if (value === null) return null;
    return JSON.parseBytes(changetype<usize>(value), value.byteLength);
  }

  /** Stores `value` durably: 0, or a negative status (quota exceeded, not permitted). */
  export function set(key: string, value: ArrayBuffer): i32 {
    const k = String.UTF8.encode(key);
    return host_kv_set(changetype<usize>(k), k.byteLength, changetype<usize>(value),
                       value.byteLength);
  }

  export function setString(key: string, value: string): i32 {
    return set(key, String.UTF8.encode(value));
  }

  export function setJSON(key: string, value: JSONValue): i32 {
    const writer = new Writer();
    writer.value(value);
    const k = String.UTF8.encode(key);
    return host_kv_set(changetype<usize>(k), k.byteLength, writer.dataStart, writer.length);
  }

  /** Removes `key`; 0 whether or not it was there. */
  export function remove(key: string): i32 {
    const k = String.UTF8.encode(key);
    return host_kv_delete(changetype<usize>(k), k.byteLength);
  }
}
