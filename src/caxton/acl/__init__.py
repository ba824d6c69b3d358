"""FIPA-ACL: the message model and its rules. Pure data, no I/O."""

from caxton.acl.names import is_agent_name
from caxton.acl.performatives import EXPECTS_ANSWER, PERFORMATIVES
from caxton.acl.validation import validate_outbound

__all__ = ["EXPECTS_ANSWER", "PERFORMATIVES", "is_agent_name", "validate_outbound"]
