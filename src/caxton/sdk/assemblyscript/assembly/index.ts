// caxton-sdk for AssemblyScript: Caxton agents (ABI v1) without raw pointers.
//
//   import { Agent, Message, register, reply, Performative } from "caxton-sdk/assembly";
//   export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";
//
// Import from "caxton-sdk/assembly" (not the bare package name, which asc 0.28 does
// not resolve in every import) and build with the SDK's asconfig.json, which wires
// the runtime and the abort, trace and seed hooks (see README.md).

export {
  Agent,
  register,
  registerHandler,
  currentAgent,
  caxton_alloc,
  caxton_init,
  caxton_handle,
  caxtonAbort,
  caxtonTrace,
  caxtonSeed,
} from "./agent";
export { Status, LogLevel, log, kv, nowMs, logAt, sendText } from "./host";
export {
  JSON,
  JSONKind,
  JSONValue,
  JSONNull,
  JSONBool,
  JSONNumber,
  JSONString,
  JSONArray,
  JSONObject,
  MAX_DEPTH,
} from "./json";
export { Writer } from "./writer";
export { Message, Performative, PLATFORM, send, reply, rfc3339 } from "./message";
export { callTool, isToolAnswer, registerCapability, ToolResult } from "./tools";
export {
  FIPA_REQUEST,
  FIPA_CONTRACT_NET,
  Outcome,
  OutcomeKind,
  FipaRequest,
  RequestParticipant,
  Bid,
  ContractNetParticipant,
  ContractNetInitiator,
  Proposal,
} from "./protocols";
