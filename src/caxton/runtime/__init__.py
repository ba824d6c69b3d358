"""The WebAssembly sandbox runtime: ABI v1 on the host side.

Knows nothing of HTTP, SQL or routing; the rest of Caxton reaches agents
through `Runtime.instantiate` and `Sandbox.handle`, and agents reach the rest
of Caxton through the `AgentHost` each sandbox is given.
"""

from caxton.runtime.abi import LogLevel, Status
from caxton.runtime.features import Feature, FeaturePolicy
from caxton.runtime.host import AgentHost
from caxton.runtime.kv import InMemoryKeyValueStore, KeyValueStore
from caxton.runtime.limits import Limits
from caxton.runtime.memory import MemoryConfiguration
from caxton.runtime.runtime import AgentModule, Runtime, RuntimeConfig
from caxton.runtime.sandbox import Sandbox

__all__ = [
    "AgentHost",
    "AgentModule",
    "Feature",
    "FeaturePolicy",
    "InMemoryKeyValueStore",
    "KeyValueStore",
    "Limits",
    "LogLevel",
    "MemoryConfiguration",
    "Runtime",
    "RuntimeConfig",
    "Sandbox",
    "Status",
]
