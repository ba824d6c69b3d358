"""FIPA-ACL: the message model and its rules. Pure data, no I/O."""

from caxton.acl.fipa_codec import DEFAULT_MAX_FIPA_BYTES, decode_fipa, encode_fipa
from caxton.acl.json_codec import decode_json, encode_json
from caxton.acl.message import ABSENT, AclMessage
from caxton.acl.names import is_agent_name
from caxton.acl.performatives import EXPECTS_ANSWER, PERFORMATIVES
from caxton.acl.replies import reply
from caxton.acl.validation import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    parse_rfc3339,
    validate_message,
    validate_outbound,
    validate_shape,
)

__all__ = [
    "ABSENT",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FIPA_BYTES",
    "EXPECTS_ANSWER",
    "MAX_DEPTH",
    "PERFORMATIVES",
    "AclMessage",
    "decode_fipa",
    "decode_json",
    "encode_fipa",
    "encode_json",
    "is_agent_name",
    "parse_rfc3339",
    "reply",
    "validate_message",
    "validate_outbound",
    "validate_shape",
]
