"""Start a sandboxed agent on a router: the one place a sandbox meets its endpoint.

The lifecycle layer builds on this; tests, benchmarks and the demo use it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caxton.router.endpoint import Endpoint
from caxton.router.router import Router, RouterError
from caxton.runtime import (
    AgentModule,
    InMemoryKeyValueStore,
    KeyValueStore,
    Limits,
    Runtime,
    Sandbox,
)


def instantiate(
    router: Router,
    runtime: Runtime,
    module: AgentModule,
    name: str,
    *,
    agent_id: str | None = None,
    config: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    kv: KeyValueStore | None = None,
) -> tuple[Endpoint, Sandbox]:
    """An initialised instance of `module` as `name`, not yet receiving messages.

    Its host is `name`'s endpoint: the registered one, for `Router.replace`
    (hot reload, restart), or a new one, for `Router.register`. Raises
    `AgentInitFailed`.
    """
    limits = limits or runtime.config.default_limits
    endpoint = router.get(name) or router.endpoint(name, limits.mailbox_capacity)
    sandbox = runtime.instantiate(
        module,
        name=name,
        agent_id=agent_id,
        host=endpoint,
        kv=kv if kv is not None else InMemoryKeyValueStore(limits.max_outbound_bytes),
        config=config,
        limits=limits,
    )
    return endpoint, sandbox


def attach(
    router: Router,
    runtime: Runtime,
    module: AgentModule,
    name: str,
    *,
    config: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    kv: KeyValueStore | None = None,
) -> Sandbox:
    """Instantiate `module` as `name` and register it; raises `AgentInitFailed`, `RouterError`."""
    if router.get(name) is not None:  # before instantiating: caxton_init may send messages
        raise RouterError(f"an agent named {name!r} is already registered")
    endpoint, sandbox = instantiate(
        router, runtime, module, name, config=config, limits=limits, kv=kv
    )
    try:
        router.register(endpoint, sandbox)
    except Exception:
        runtime.remove(sandbox)
        raise
    return sandbox
