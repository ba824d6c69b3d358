// JSON (RFC 8259) values, a parser over UTF-8 bytes and a serialiser to UTF-8.
//
// AssemblyScript has no JSON of its own. Everything the host hands an agent is
// UTF-8 JSON, so the parser reads bytes straight from linear memory (no UTF-16
// copy of the whole message first) and the writer produces the bytes `send`
// takes. Numbers keep the exact text they were parsed from, so an integer
// beyond 2^53 survives a round trip through an agent unchanged.

import { Writer } from "./writer";

export enum JSONKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** Nesting deeper than this is refused, so hostile input cannot exhaust the wasm stack. */
export const MAX_DEPTH: i32 = 256;

/** A JSON value; `kind` says which subclass it is. */
export class JSONValue {
  constructor(public readonly kind: JSONKind) {}

  get isNull(): bool {
    return this.kind == JSONKind.Null;
  }
  get isBool(): bool {
    return this.kind == JSONKind.Bool;
  }
  get isNumber(): bool {
    return this.kind == JSONKind.Number;
  }
  get isString(): bool {
    return this.kind == JSONKind.String;
  }
  get isArray(): bool {
    return this.kind == JSONKind.Array;
  }
  get isObject(): bool {
    return this.kind == JSONKind.Object;
  }
  /** A number written without fraction or exponent that fits in an i64. */
  get isInteger(): bool {
    return this.kind == JSONKind.Number && changetype<JSONNumber>(this).integral;
  }

  /** The boolean; aborts when this is not one. */
  asBool(): bool {
    this.expect(JSONKind.Bool);
    return changetype<JSONBool>(this).value;
  }
  asNumber(): f64 {
    this.expect(JSONKind.Number);
    return changetype<JSONNumber>(this).value;
  }
  /** The integer; aborts when this is not a number or not an integer literal. */
  asInteger(): i64 {
    this.expect(JSONKind.Number);
    const n = changetype<JSONNumber>(this);
    if (!n.integral) throw new Error("JSON: expected an integer, found " + n.text);
    return n.integer;
  }
  asString(): string {
    this.expect(JSONKind.String);
    return changetype<JSONString>(this).value;
  }
  asArray(): JSONArray {
    this.expect(JSONKind.Array);
    return changetype<JSONArray>(this);
  }
  asObject(): JSONObject {
    this.expect(JSONKind.Object);
    return changetype<JSONObject>(this);
  }

  /** A member of an object, or null when this is no object or has no such key. */
  get(key: string): JSONValue | null {
    if (this.kind != JSONKind.Object) return null;
    return changetype<JSONObject>(this).get(key);
  }

  /** A string member of an object, or null when absent or not a string. */
  getString(key: string): string | null {
    const value = this.get(key);
    if (value === null || !value.isString) return null;
    return changetype<JSONString>(value).value;
  }

  /** Serialised, compact. */
  toString(): string {
    return JSON.stringify(this);
  }

  /** Deep equality; object key order does not matter, numbers compare by value. */
  equals(other: JSONValue): bool {
    return JSON.equal(this, other);
  }

  private expect(kind: JSONKind): void {
    if (this.kind != kind) {
      throw new Error("JSON: expected " + kindName(kind) + ", found " + kindName(this.kind));
    }
  }
}

export function kindName(kind: JSONKind): string {
  switch (kind) {
    case JSONKind.Null:
      return "null";
    case JSONKind.Bool:
      return "a boolean";
    case JSONKind.Number:
      return "a number";
    case JSONKind.String:
      return "a string";
    case JSONKind.Array:
      return "an array";
    default:
      return "an object";
  }
}

export class JSONNull extends JSONValue {
  constructor() {
    super(JSONKind.Null);
  }
}

export class JSONBool extends JSONValue {
  constructor(public value: bool) {
    super(JSONKind.Bool);
  }
}

export class JSONNumber extends JSONValue {
  /** The literal as written (or as this SDK would write it): what the serialiser emits. */
  text: string;
  value: f64;
  /** Whether `integer` holds the value: an integer literal of at most 18 digits, or fromInteger. */
  integral: bool = false;
  integer: i64 = 0;

  constructor(value: f64, text: string | null = null) {
    super(JSONKind.Number);
    this.value = value;
    this.text = text !== null ? text : formatNumber(value);
  }

  /** Written as an integer (an optional minus and digits), however many digits. */
  get isIntegerLiteral(): bool {
    const text = this.text;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c == 0x2e || c == 0x65 || c == 0x45) return false;
    }
    return text != "null";
  }

  static fromInteger(n: i64): JSONNumber {
    const number = new JSONNumber(<f64>n, n.toString());
    number.integral = true;
    number.integer = n;
    return number;
  }
}

export class JSONString extends JSONValue {
  constructor(public value: string) {
    super(JSONKind.String);
  }
}

export class JSONArray extends JSONValue {
  items: JSONValue[] = [];

  constructor() {
    super(JSONKind.Array);
  }

  get length(): i32 {
    return this.items.length;
  }
  at(index: i32): JSONValue {
    return this.items[index];
  }
  push(value: JSONValue): JSONArray {
    this.items.push(value);
    return this;
  }
  pushString(value: string): JSONArray {
    return this.push(JSON.str(value));
  }
  pushInteger(value: i64): JSONArray {
    return this.push(JSON.integer(value));
  }
}

// Objects this large get a hash index; smaller ones are searched, which is faster there.
const INDEX_FROM: i32 = 16;

/** An object; keys keep the order they were added in, and a key appears once. */
export class JSONObject extends JSONValue {
  keys: string[] = [];
  values: JSONValue[] = [];
  private index: Map<string, i32> | null = null;

  constructor() {
    super(JSONKind.Object);
  }

  get size(): i32 {
    return this.keys.length;
  }

  has(key: string): bool {
    return this.find(key) >= 0;
  }

  get(key: string): JSONValue | null {
    const at = this.find(key);
    return at < 0 ? null : this.values[at];
  }

  /** Adds or replaces `key` (a replaced key keeps its place). */
  set(key: string, value: JSONValue): JSONObject {
    const at = this.find(key);
    if (at >= 0) {
      this.values[at] = value;
      return this;
    }
    this.keys.push(key);
    this.values.push(value);
    const index = this.index;
    if (index !== null) {
      index.set(key, this.keys.length - 1);
    } else if (this.keys.length >= INDEX_FROM) {
      this.rebuildIndex();
    }
    return this;
  }

  setString(key: string, value: string): JSONObject {
    return this.set(key, JSON.str(value));
  }
  setInteger(key: string, value: i64): JSONObject {
    return this.set(key, JSON.integer(value));
  }
  setNumber(key: string, value: f64): JSONObject {
    return this.set(key, JSON.number(value));
  }
  setBool(key: string, value: bool): JSONObject {
    return this.set(key, JSON.boolean(value));
  }

  /** Removes `key`; whether it was there. */
  delete(key: string): bool {
    const at = this.find(key);
    if (at < 0) return false;
    this.keys.splice(at, 1);
    this.values.splice(at, 1);
    if (this.index !== null) this.rebuildIndex();
    return true;
  }

  private find(key: string): i32 {
    const index = this.index;
    if (index !== null) return index.has(key) ? index.get(key) : -1;
    const keys = this.keys;
    for (let i = 0, n = keys.length; i < n; i++) {
      if (keys[i] == key) return i;
    }
    return -1;
  }

  private rebuildIndex(): void {
    const index = new Map<string, i32>();
    const keys = this.keys;
    for (let i = 0, n = keys.length; i < n; i++) index.set(keys[i], i);
    this.index = index;
  }
}

/** A JSON number literal for `value`; NaN and the infinities have none, so they become null. */
function formatNumber(value: f64): string {
  if (!isFinite(value)) return "null";
  if (value == Math.floor(value) && Math.abs(value) < 9007199254740992.0) {
    return (<i64>value).toString();
  }
  return value.toString();
}

export namespace JSON {
  /** Why the last `tryParse` failed, with the byte offset. */
  export let lastError: string = "";

  /** Parses `text`; aborts (traps, after logging why) when it is not JSON. */
  export function parse(text: string): JSONValue {
    const value = tryParse(text);
    if (value === null) throw new Error("invalid JSON: " + lastError);
    return value;
  }

  /** Parses `text`, or answers null and sets `lastError`. */
  export function tryParse(text: string): JSONValue | null {
    const bytes = String.UTF8.encode(text);
    return parseBytes(changetype<usize>(bytes), bytes.byteLength);
  }

  /** Parses `len` UTF-8 bytes at `ptr`, or answers null and sets `lastError`. */
  export function parseBytes(ptr: usize, len: i32): JSONValue | null {
    const parser = new Parser(ptr, len);
    const value = parser.document();
    if (value === null) lastError = parser.error;
    return value;
  }

  /** Compact JSON text of `value`. */
  export function stringify(value: JSONValue): string {
    const writer = new Writer();
    writer.value(value);
    return writer.toString();
  }

  /** `text` as a JSON string literal, quotes included. */
  export function quote(text: string): string {
    const writer = new Writer();
    writer.string(text);
    return writer.toString();
  }

  export function nul(): JSONValue {
    return new JSONNull();
  }
  export function boolean(value: bool): JSONValue {
    return new JSONBool(value);
  }
  export function number(value: f64): JSONValue {
    return new JSONNumber(value);
  }
  export function integer(value: i64): JSONValue {
    return JSONNumber.fromInteger(value);
  }
  export function str(value: string): JSONValue {
    return new JSONString(value);
  }
  export function array(): JSONArray {
    return new JSONArray();
  }
  export function object(): JSONObject {
    return new JSONObject();
  }
  /** An array of strings. */
  export function strings(values: string[]): JSONArray {
    const array = new JSONArray();
    for (let i = 0; i < values.length; i++) array.push(new JSONString(values[i]));
    return array;
  }

  export function equal(a: JSONValue, b: JSONValue): bool {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case JSONKind.Null:
        return true;
      case JSONKind.Bool:
        return changetype<JSONBool>(a).value == changetype<JSONBool>(b).value;
      case JSONKind.Number: {
        const x = changetype<JSONNumber>(a);
        const y = changetype<JSONNumber>(b);
        if (x.integral && y.integral) return x.integer == y.integer;
        return x.value == y.value;
      }
      case JSONKind.String:
        return changetype<JSONString>(a).value == changetype<JSONString>(b).value;
      case JSONKind.Array: {
        const x = changetype<JSONArray>(a).items;
        const y = changetype<JSONArray>(b).items;
        if (x.length != y.length) return false;
        for (let i = 0; i < x.length; i++) if (!equal(x[i], y[i])) return false;
        return true;
      }
      default: {
        const x = changetype<JSONObject>(a);
        const y = changetype<JSONObject>(b);
        if (x.size != y.size) return false;
        for (let i = 0; i < x.keys.length; i++) {
          const other = y.get(x.keys[i]);
          if (other === null || !equal(x.values[i], other)) return false;
        }
        return true;
      }
    }
  }
}

// ---- parsing ----

export const QUOTE: u8 = 0x22;
export const BACKSLASH: u8 = 0x5c;

// UTF-16 units of the escaped string being decoded; kept between strings, grown as needed.
// @ts-ignore: decorator
@lazy let scratch = new ArrayBuffer(256);

function reserveScratch(units: i32): void {
  const bytes = units << 1;
  if (bytes <= scratch.byteLength) return;
  let grown = scratch.byteLength * 2;
  if (grown < bytes) grown = bytes;
  const buffer = new ArrayBuffer(grown);
  memory.copy(changetype<usize>(buffer), changetype<usize>(scratch), <usize>scratch.byteLength);
  scratch = buffer;
}

/**
 * Appends the UTF-16 form of `len` UTF-8 bytes at `ptr` to the scratch buffer after
 * `units` units; the new count. A malformed sequence becomes U+FFFD, one byte at a time.
 */
function decodeRun(ptr: usize, len: i32, units: i32): i32 {
  // Never more units than bytes.
  reserveScratch(units + len);
  const out = changetype<usize>(scratch);
  let i = 0;
  while (i < len) {
    const b0 = <i32>load<u8>(ptr + <usize>i);
    let cp = 0xfffd;
    let size = 1;
    if (b0 < 0x80) {
      cp = b0;
    } else if (b0 >= 0xc2 && b0 < 0xe0 && i + 1 < len) {
      const b1 = <i32>load<u8>(ptr + <usize>(i + 1));
      if ((b1 & 0xc0) == 0x80) {
        cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
        size = 2;
      }
    } else if (b0 >= 0xe0 && b0 < 0xf0 && i + 2 < len) {
      const b1 = <i32>load<u8>(ptr + <usize>(i + 1));
      const b2 = <i32>load<u8>(ptr + <usize>(i + 2));
      const c = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      if ((b1 & 0xc0) == 0x80 && (b2 & 0xc0) == 0x80 && c >= 0x800) {
        cp = c;
        size = 3;
      }
    } else if (b0 >= 0xf0 && b0 < 0xf5 && i + 3 < len) {
      const b1 = <i32>load<u8>(ptr + <usize>(i + 1));
      const b2 = <i32>load<u8>(ptr + <usize>(i + 2));
      const b3 = <i32>load<u8>(ptr + <usize>(i + 3));
      const c = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      if ((b1 & 0xc0) == 0x80 && (b2 & 0xc0) == 0x80 && (b3 & 0xc0) == 0x80 &&
          c >= 0x10000 && c <= 0x10ffff) {
        cp = c;
        size = 4;
      }
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(out + (<usize>units << 1), <u16>(0xd800 | (cp >> 10)));
      store<u16>(out + (<usize>(units + 1) << 1), <u16>(0xdc00 | (cp & 0x3ff)));
      units += 2;
    } else {
      store<u16>(out + (<usize>units << 1), <u16>cp);
      units++;
    }
    i += size;
  }
  return units;
}

class Parser {
  pos: i32 = 0;
  error: string = "";

  constructor(
    private ptr: usize,
    private len: i32,
  ) {}

  document(): JSONValue | null {
    this.skipSpace();
    const value = this.value(0);
    if (value === null) return null;
    this.skipSpace();
    if (this.pos != this.len) return this.fail("unexpected text after the value");
    return value;
  }

  private fail(what: string): JSONValue | null {
    if (this.error.length == 0) this.error = what + " at byte " + this.pos.toString();
    return null;
  }

  @inline private peek(): u8 {
    return load<u8>(this.ptr + <usize>this.pos);
  }

  private skipSpace(): void {
    while (this.pos < this.len) {
      const c = this.peek();
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  private value(depth: i32): JSONValue | null {
    if (this.pos >= this.len) return this.fail("unexpected end of input");
    const c = this.peek();
    if (c == 0x7b) return this.object(depth + 1);
    if (c == 0x5b) return this.array(depth + 1);
    if (c == QUOTE) {
      const text = this.string();
      return text === null ? null : new JSONString(text);
    }
    if (c == 0x74) return this.literal("true", new JSONBool(true));
    if (c == 0x66) return this.literal("false", new JSONBool(false));
    if (c == 0x6e) return this.literal("null", new JSONNull());
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  private literal(word: string, value: JSONValue): JSONValue | null {
    const n = word.length;
    if (this.pos + n > this.len) return this.fail("unexpected end of input");
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.ptr + <usize>(this.pos + i)) != word.charCodeAt(i)) {
        return this.fail("invalid literal");
      }
    }
    this.pos += n;
    return value;
  }

  private digits(): i32 {
    const start = this.pos;
    while (this.pos < this.len) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos - start;
  }

  // RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  private number(): JSONValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.pos >= this.len) return this.fail("unexpected end of input");
    const first = this.peek();
    const intDigits = this.digits();
    if (intDigits == 0) return this.fail("a number needs digits");
    if (first == 0x30 && intDigits > 1) return this.fail("a number cannot start with 0");
    let integral = true;
    if (this.pos < this.len && this.peek() == 0x2e) {
      this.pos++;
      integral = false;
      if (this.digits() == 0) return this.fail("a fraction needs digits");
    }
    if (this.pos < this.len && (this.peek() | 0x20) == 0x65) {
      this.pos++;
      integral = false;
      if (this.pos < this.len && (this.peek() == 0x2b || this.peek() == 0x2d)) this.pos++;
      if (this.digits() == 0) return this.fail("an exponent needs digits");
    }
    const text = String.UTF8.decodeUnsafe(this.ptr + <usize>start, <usize>(this.pos - start));
    const number = new JSONNumber(parseFloat(text), text);
    // 18 digits always fit in an i64; longer integers are kept as text and as f64 only.
    if (integral && intDigits <= 18) {
      let n: i64 = 0;
      const negative = load<u8>(this.ptr + <usize>start) == 0x2d;
      for (let i = start + (negative ? 1 : 0); i < this.pos; i++) {
        n = n * 10 + <i64>(load<u8>(this.ptr + <usize>i) - 0x30);
      }
      number.integral = true;
      number.integer = negative ? -n : n;
    }
    return number;
  }

  private hex4(): i32 {
    if (this.pos + 4 > this.len) return -1;
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.ptr + <usize>(this.pos + i));
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else return -1;
      code = (code << 4) | d;
    }
    this.pos += 4;
    return code;
  }

  // At the opening quote. A string without escapes is decoded in one piece. One with
  // escapes is decoded unit by unit into a scratch buffer and allocated once at the end
  // (a piece per escape made escape-heavy strings cost thousands of instructions a
  // character). An escape \uXXXX becomes one UTF-16 code unit, so a surrogate pair written
  // as two escapes comes out as the one character it encodes, and a lone surrogate stays
  // lone, as in JS.
  private string(): string | null {
    this.pos++;
    const start = this.pos;
    while (this.pos < this.len) {
      const c = this.peek();
      if (c == QUOTE) {
        const text = String.UTF8.decodeUnsafe(this.ptr + <usize>start, <usize>(this.pos - start));
        this.pos++;
        return text;
      }
      if (c == BACKSLASH) return this.escapedString(start);
      if (c < 0x20) {
        this.fail("control character in a string");
        return null;
      }
      this.pos++;
    }
    this.fail("unterminated string");
    return null;
  }

  private escapedString(start: i32): string | null {
    let units = decodeRun(this.ptr + <usize>start, this.pos - start, 0);
    while (this.pos < this.len) {
      const c = this.peek();
      if (c == QUOTE) {
        this.pos++;
        return String.UTF16.decodeUnsafe(changetype<usize>(scratch), <usize>units << 1);
      }
      if (c != BACKSLASH) {
        const run = this.pos;
        while (this.pos < this.len) {
          const d = this.peek();
          if (d == QUOTE || d == BACKSLASH) break;
          if (d < 0x20) {
            this.fail("control character in a string");
            return null;
          }
          this.pos++;
        }
        units = decodeRun(this.ptr + <usize>run, this.pos - run, units);
        continue;
      }
      this.pos++;
      if (this.pos >= this.len) break;
      const e = this.peek();
      this.pos++;
      let unit: i32;
      switch (e) {
        case 0x22:
          unit = 0x22;
          break;
        case 0x5c:
          unit = 0x5c;
          break;
        case 0x2f:
          unit = 0x2f;
          break;
        case 0x62:
          unit = 0x08;
          break;
        case 0x66:
          unit = 0x0c;
          break;
        case 0x6e:
          unit = 0x0a;
          break;
        case 0x72:
          unit = 0x0d;
          break;
        case 0x74:
          unit = 0x09;
          break;
        case 0x75:
          unit = this.hex4();
          if (unit < 0) {
            this.fail("\\u needs four hex digits");
            return null;
          }
          break;
        default:
          this.pos--;
          this.fail("invalid escape");
          return null;
      }
      reserveScratch(units + 1);
      store<u16>(changetype<usize>(scratch) + (<usize>units << 1), <u16>unit);
      units++;
    }
    this.fail("unterminated string");
    return null;
  }

  private array(depth: i32): JSONValue | null {
    if (depth > MAX_DEPTH) return this.fail("nested too deeply");
    this.pos++;
    const array = new JSONArray();
    this.skipSpace();
    if (this.pos < this.len && this.peek() == 0x5d) {
      this.pos++;
      return array;
    }
    while (true) {
      this.skipSpace();
      const item = this.value(depth);
      if (item === null) return null;
      array.items.push(item);
      this.skipSpace();
      if (this.pos >= this.len) return this.fail("unterminated array");
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return array;
      if (c != 0x2c) {
        this.pos--;
        return this.fail("expected , or ]");
      }
    }
  }

  private object(depth: i32): JSONValue | null {
    if (depth > MAX_DEPTH) return this.fail("nested too deeply");
    this.pos++;
    const object = new JSONObject();
    this.skipSpace();
    if (this.pos < this.len && this.peek() == 0x7d) {
      this.pos++;
      return object;
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.len || this.peek() != QUOTE) return this.fail("expected a key");
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.pos >= this.len || this.peek() != 0x3a) return this.fail("expected :");
      this.pos++;
      this.skipSpace();
      const value = this.value(depth);
      if (value === null) return null;
      // A repeated key: the last one wins, as in most parsers (RFC 8259 leaves it open).
      object.set(key, value);
      this.skipSpace();
      if (this.pos >= this.len) return this.fail("unterminated object");
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return object;
      if (c != 0x2c) {
        this.pos--;
        return this.fail("expected , or }");
      }
    }
  }
}
