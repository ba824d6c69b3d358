// Writing JSON values as compact UTF-8 text (RFC 8259), straight into a growable buffer
// that `send`, `kv_set` and the other host functions take as it is.

import {
  BACKSLASH,
  JSONArray,
  JSONBool,
  JSONKind,
  JSONNumber,
  JSONObject,
  JSONString,
  JSONValue,
  QUOTE,
} from "./json";

const HEX = "0123456789abcdef";

/** A growable UTF-8 buffer that JSON is written into. */
export class Writer {
  buffer: ArrayBuffer;
  length: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.buffer = new ArrayBuffer(capacity);
  }

  get dataStart(): usize {
    return changetype<usize>(this.buffer);
  }

  private reserve(n: i32): void {
    const needed = this.length + n;
    const capacity = this.buffer.byteLength;
    if (needed <= capacity) return;
    let grown = capacity * 2;
    if (grown < needed) grown = needed;
    const buffer = new ArrayBuffer(grown);
    memory.copy(changetype<usize>(buffer), changetype<usize>(this.buffer), <usize>this.length);
    this.buffer = buffer;
  }

  @inline private put(byte: i32): void {
    store<u8>(changetype<usize>(this.buffer) + <usize>this.length, <u8>byte);
    this.length++;
  }

  byte(b: i32): Writer {
    this.reserve(1);
    this.put(b);
    return this;
  }

  /** `text` as UTF-8, as it is (no quoting): for literals and already-serialised JSON. */
  raw(text: string): Writer {
    const n = <i32>String.UTF8.byteLength(text);
    this.reserve(n);
    String.UTF8.encodeUnsafe(
      changetype<usize>(text),
      text.length,
      changetype<usize>(this.buffer) + <usize>this.length,
    );
    this.length += n;
    return this;
  }

  /** `text` as a JSON string literal: quotes, escapes, and lone surrogates as \uXXXX. */
  string(text: string): Writer {
    const n = text.length;
    // A UTF-16 unit becomes at most 3 bytes (a pair 4, a two-character escape 2); only the
    // rare \uXXXX escape takes 6, and it reserves room again for itself and what follows.
    this.reserve(n * 3 + 2);
    this.put(QUOTE);
    const base = changetype<usize>(text);
    for (let i = 0; i < n; i++) {
      const c = <i32>load<u16>(base + (<usize>i << 1));
      if (c < 0x80) {
        if (c == QUOTE || c == BACKSLASH) {
          this.put(BACKSLASH);
          this.put(c);
        } else if (c >= 0x20) {
          this.put(c);
        } else if (c == 0x0a) {
          this.put(BACKSLASH);
          this.put(0x6e);
        } else if (c == 0x0d) {
          this.put(BACKSLASH);
          this.put(0x72);
        } else if (c == 0x09) {
          this.put(BACKSLASH);
          this.put(0x74);
        } else if (c == 0x08) {
          this.put(BACKSLASH);
          this.put(0x62);
        } else if (c == 0x0c) {
          this.put(BACKSLASH);
          this.put(0x66);
        } else {
          this.escape(c, n - i);
        }
      } else if (c < 0x800) {
        this.put(0xc0 | (c >> 6));
        this.put(0x80 | (c & 0x3f));
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = <i32>load<u16>(base + (<usize>(i + 1) << 1));
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          this.put(0xf0 | (cp >> 18));
          this.put(0x80 | ((cp >> 12) & 0x3f));
          this.put(0x80 | ((cp >> 6) & 0x3f));
          this.put(0x80 | (cp & 0x3f));
          i++;
        } else {
          this.escape(c, n - i);
        }
      } else if (c >= 0xd800 && c <= 0xdfff) {
        // A lone surrogate has no UTF-8 form; the escape keeps it, and the text valid UTF-8.
        this.escape(c, n - i);
      } else {
        this.put(0xe0 | (c >> 12));
        this.put(0x80 | ((c >> 6) & 0x3f));
        this.put(0x80 | (c & 0x3f));
      }
    }
    this.put(QUOTE);
    return this;
  }

  private escape(unit: i32, left: i32): void {
    this.reserve(6 + left * 3 + 1);
    this.put(BACKSLASH);
    this.put(0x75);
    for (let shift = 12; shift >= 0; shift -= 4) this.put(HEX.charCodeAt((unit >> shift) & 15));
  }

  value(value: JSONValue): Writer {
    switch (value.kind) {
      case JSONKind.Null:
        return this.raw("null");
      case JSONKind.Bool:
        return this.raw(changetype<JSONBool>(value).value ? "true" : "false");
      case JSONKind.Number:
        return this.raw(changetype<JSONNumber>(value).text);
      case JSONKind.String:
        return this.string(changetype<JSONString>(value).value);
      case JSONKind.Array: {
        const items = changetype<JSONArray>(value).items;
        this.byte(0x5b);
        for (let i = 0; i < items.length; i++) {
          if (i > 0) this.byte(0x2c);
          this.value(items[i]);
        }
        return this.byte(0x5d);
      }
      default: {
        const object = changetype<JSONObject>(value);
        this.byte(0x7b);
        for (let i = 0; i < object.keys.length; i++) {
          if (i > 0) this.byte(0x2c);
          this.string(object.keys[i]);
          this.byte(0x3a);
          this.value(object.values[i]);
        }
        return this.byte(0x7d);
      }
    }
  }

  toString(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.buffer), <usize>this.length);
  }
}
