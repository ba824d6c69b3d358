"""Caxton: an application server for multi-agent systems.

Agents are WebAssembly modules, each in its own sandbox, that talk in FIPA-ACL
messages. The agent contract is ABI version 1 (see docs/abi.md).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
