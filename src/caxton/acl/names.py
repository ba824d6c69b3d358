"""Agent names: 1 to 63 characters of `a-z 0-9 -`, starting with a letter (ABI v1)."""

import re
from typing import Final

_AGENT_NAME: Final = re.compile(r"[a-z][a-z0-9-]{0,62}")


def is_agent_name(value: object) -> bool:
    return isinstance(value, str) and _AGENT_NAME.fullmatch(value) is not None
