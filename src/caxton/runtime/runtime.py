"""The runtime: one Engine, one shared Linker, compiled modules, and sandboxes.

`load` turns bytes into an `AgentModule` (validated, compiled once per content
hash, pre-instantiated); `instantiate` makes a `Sandbox` from one in its own
Store, with the agent's limits, in about the time `InstancePre.instantiate`
takes. A background thread advances the engine's epoch every
`epoch_tick_ms`, which is what makes per-message wall-clock deadlines work.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import orjson
import wasmtime

from caxton.errors import AgentInitFailed, ConfigError, ErrorClass, HandlerError, ModuleRejected
from caxton.runtime import abi
from caxton.runtime.abi import LogLevel
from caxton.runtime.cache import DiskCache, MemoryCache, content_hash
from caxton.runtime.features import FeaturePolicy
from caxton.runtime.host import AgentHost
from caxton.runtime.hostcalls import HostFunctions
from caxton.runtime.kv import KeyValueStore
from caxton.runtime.limits import Limits
from caxton.runtime.memory import MemoryConfiguration
from caxton.runtime.sandbox import Sandbox
from caxton.runtime.validation import check_abi, check_header, compile_module, describe_error

log = logging.getLogger("caxton.runtime")

_WASI_ENOTSUP: Final = 58


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    memory: MemoryConfiguration
    features: FeaturePolicy = field(default_factory=FeaturePolicy)
    limits: Limits | None = None
    # Real agents are tens to hundreds of KiB; 32 MiB leaves room for big runtimes.
    max_module_bytes: int = 32 * 1024 * 1024
    epoch_tick_ms: int = 5
    cache_dir: Path | None = None
    module_cache_entries: int = 256

    @classmethod
    def from_environment(cls, env: Mapping[str, str], **overrides: Any) -> RuntimeConfig:
        """From the `CAXTON_*` variables in `env`; `overrides` win."""
        settings: dict[str, Any] = {"memory": MemoryConfiguration.from_environment(env)}
        if "CAXTON_WASM_FEATURES" in env:
            settings["features"] = FeaturePolicy.parse(env["CAXTON_WASM_FEATURES"])
        if "CAXTON_MAX_MODULE_BYTES" in env:
            settings["max_module_bytes"] = _positive_int(env, "CAXTON_MAX_MODULE_BYTES")
        if "CAXTON_CACHE_DIR" in env:
            settings["cache_dir"] = Path(env["CAXTON_CACHE_DIR"])
        settings.update(overrides)
        return cls(**settings)

    @property
    def default_limits(self) -> Limits:
        return self.limits or Limits.defaults(self.memory)


@dataclass(frozen=True, slots=True, eq=False)
class AgentModule:
    """A validated, compiled module, ready to instantiate any number of times."""

    sha256: str
    size: int
    module: wasmtime.Module
    pre: wasmtime.InstancePre


class Runtime:
    """Owns the engine and everything compiled with it. Close it (or use `with`)."""

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        wasm_config = wasmtime.Config()
        wasm_config.consume_fuel = True
        wasm_config.epoch_interruption = True
        config.features.configure(wasm_config)
        self.engine = wasmtime.Engine(wasm_config)
        self._sandboxes: dict[int, Sandbox] = {}
        self._linker = self._build_linker()
        self._modules: MemoryCache[AgentModule] = MemoryCache(config.module_cache_entries)
        self._disk = (
            DiskCache(config.cache_dir, self._fingerprint())
            if config.cache_dir is not None
            else None
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="caxton-epoch", daemon=True)
        self._ticker.start()

    def _build_linker(self) -> wasmtime.Linker:
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        linker.allow_shadowing = True
        # WASI's poll_oneoff is how C's sleep() blocks, out of reach of fuel and
        # of the epoch deadline: agents wait for messages, not for time.
        linker.define_func(
            abi.WASI_MODULE,
            "poll_oneoff",
            wasmtime.FuncType([wasmtime.ValType.i32()] * 4, [wasmtime.ValType.i32()]),
            lambda *_: _WASI_ENOTSUP,
        )
        self._hostcalls = HostFunctions(self._sandboxes)
        self._hostcalls.define(linker)
        return linker

    def _fingerprint(self) -> str:
        features = ",".join(sorted(self.config.features.allowed))
        text = f"wasmtime-{wasmtime.__version__ if hasattr(wasmtime, '__version__') else ''}"
        return hashlib.sha256(f"{text};{features}".encode()).hexdigest()[:16]

    def _tick(self) -> None:
        interval = self.config.epoch_tick_ms / 1000
        while not self._stop.wait(interval):
            self.engine.increment_epoch()

    # Modules.

    def load(self, wasm: bytes, memory_bytes: int | None = None) -> AgentModule:
        """Validate and compile `wasm`, or take it from the cache. Raises `ModuleRejected`."""
        sha256 = content_hash(wasm)
        ceiling = memory_bytes or self.config.default_limits.memory_bytes
        with self._lock:
            cached = self._modules.get(sha256)
        if cached is not None:
            check_abi(cached.module, ceiling)
            return cached
        check_header(wasm, self.config.max_module_bytes)
        module = self._disk.load(self.engine, sha256) if self._disk else None
        if module is None:
            module = compile_module(self.engine, wasm, self.config.features)
            check_abi(module, ceiling)
            if self._disk:
                self._disk.store(sha256, module)
        else:
            check_abi(module, ceiling)
        try:
            pre = self._linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as error:
            raise ModuleRejected("imports", describe_error(str(error))) from None
        loaded = AgentModule(sha256=sha256, size=len(wasm), module=module, pre=pre)
        with self._lock:
            self._modules.put(sha256, loaded)
        return loaded

    # Instances.

    def instantiate(
        self,
        module: AgentModule,
        *,
        name: str,
        host: AgentHost,
        kv: KeyValueStore,
        agent_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> Sandbox:
        """A new running instance of `module`, initialised. Raises `AgentInitFailed`."""
        limits = limits or self.config.default_limits
        store = wasmtime.Store(self.engine)
        store.set_limits(
            memory_size=limits.memory_bytes,
            table_elements=limits.table_elements,
            instances=1,
            tables=16,
            memories=1,
        )
        store.set_fuel(limits.fuel_per_message)
        store.set_epoch_deadline(-(-limits.deadline_ms // self.config.epoch_tick_ms) + 1)
        output: list[Sandbox] = []
        store.set_wasi(_quiet_wasi(output))
        try:
            instance = module.pre.instantiate(store)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
            raise AgentInitFailed(
                f"instantiating {name}: {describe_error(str(error))}", ErrorClass.SYSTEM
            ) from None
        sandbox = Sandbox(
            name=name,
            agent_id=agent_id or name,
            store=store,
            instance=instance,
            limits=limits,
            epoch_tick_ms=self.config.epoch_tick_ms,
            host=host,
            kv=kv,
        )
        output.append(sandbox)
        self._sandboxes[sandbox.context_address] = sandbox
        payload = orjson.dumps({"name": name, "id": sandbox.agent_id, "config": config or {}})
        try:
            sandbox.init(payload)
        except HandlerError as error:
            self.remove(sandbox)
            raise AgentInitFailed(f"starting {name}: {error}", error.error_class) from None
        return sandbox

    def remove(self, sandbox: Sandbox) -> None:
        """Free everything the instance held."""
        self._sandboxes.pop(sandbox.context_address, None)
        sandbox.close()

    @property
    def running(self) -> int:
        return len(self._sandboxes)

    def close(self) -> None:
        self._stop.set()
        self._ticker.join()
        for sandbox in list(self._sandboxes.values()):
            self.remove(sandbox)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _quiet_wasi(sandbox: list[Sandbox]) -> wasmtime.WasiConfig:
    """WASI with no arguments, environment, preopens or stdin; output goes to the agent's log.

    `sandbox` is filled in once the instance exists: a start function that
    writes before that has its output dropped, as nobody could be told.
    """
    wasi = wasmtime.WasiConfig()

    def writer(level: LogLevel) -> Any:
        def write(data: bytes) -> None:
            if sandbox:
                sandbox[0].on_output(level, data)

        return write

    wasi.stdout_custom = writer(LogLevel.INFO)
    wasi.stderr_custom = writer(LogLevel.WARN)
    return wasi


def _positive_int(env: Mapping[str, str], name: str) -> int:
    text = env[name]
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(name, f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise ConfigError(name, f"must be a positive integer, got {text!r}")
    return value


__all__ = ["AgentModule", "Runtime", "RuntimeConfig"]
