"""Modules refused at load, each with an error naming what was wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import wasmtime

from caxton.errors import ConfigError, ModuleRejected
from caxton.runtime import Feature, FeaturePolicy, Runtime, RuntimeConfig
from conftest import ALLOC, MEMORY, wat

HANDLE = '(func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0))'


def module(*parts: str, memory: str = '(memory (export "memory") 1)') -> bytes:
    return wat(f"(module {' '.join(parts)} {memory} {ALLOC} )")


REFUSED = {
    "random bytes": (os.urandom(256), "header"),
    "empty": (b"", "header"),
    "truncated": (module(HANDLE)[:40], "invalid WebAssembly"),
    "a component": (b"\0asm\x0d\0\x01\0" + b"\0" * 8, "a component"),
    "missing caxton_handle": (module(), "export caxton_handle: missing"),
    "missing memory": (module(HANDLE, memory=""), "export memory: missing"),
    "missing caxton_alloc": (
        wat(f'(module (memory (export "memory") 1) {HANDLE})'),
        "export caxton_alloc: missing",
    ),
    "wrong caxton_handle signature": (
        module('(func (export "caxton_handle") (param i32) (result i32) (i32.const 0))'),
        "export caxton_handle: has signature (i32) -> (i32), ABI v1 requires (i32, i32) -> (i32)",
    ),
    "wrong optional export signature": (
        module(HANDLE, '(func (export "caxton_init") (param i32 i32))'),
        "export caxton_init: has signature",
    ),
    "import from another module": (
        module('(import "env" "system" (func (param i32)))', HANDLE),
        "import env.system: not allowed",
    ),
    "unknown host import": (
        module('(import "caxton" "spawn" (func))', HANDLE),
        "import caxton.spawn: not provided by the host",
    ),
    "wrong host import signature": (
        module('(import "caxton" "send" (func (param i32) (result i32)))', HANDLE),
        "import caxton.send: has signature (i32) -> (i32)",
    ),
    "unknown WASI function": (
        module('(import "wasi_snapshot_preview1" "no_such_call" (func))', HANDLE),
        "imports",
    ),
    "memory above the ceiling": (
        module(HANDLE, memory='(memory (export "memory") 40000)'),
        "export memory: declares a minimum of",
    ),
}


@pytest.mark.parametrize(("wasm", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_a_named_reason(runtime: Runtime, wasm: bytes, words: str) -> None:
    with pytest.raises(ModuleRejected) as caught:
        runtime.load(wasm)
    assert words in str(caught.value)


def test_oversized_module_names_the_limit() -> None:
    config = RuntimeConfig(memory=MEMORY, max_module_bytes=100)
    with Runtime(config) as runtime, pytest.raises(ModuleRejected, match="max_module_bytes"):
        runtime.load(module(HANDLE))


def test_accepted_module_is_compiled_once(runtime: Runtime) -> None:
    wasm = module(HANDLE)
    assert runtime.load(wasm) is runtime.load(wasm)


def test_disk_cache_survives_a_new_runtime(tmp_path: Path) -> None:
    wasm = module(HANDLE)
    config = RuntimeConfig(memory=MEMORY, cache_dir=tmp_path)
    with Runtime(config) as first:
        sha = first.load(wasm).sha256
    cached = list(os.scandir(tmp_path))
    assert len(cached) == 1
    assert cached[0].name.startswith(sha)
    with Runtime(config) as second:
        assert second.load(wasm).sha256 == sha


FEATURES = {
    Feature.SIMD: "(func (drop (v128.const i32x4 0 0 0 0)))",
    Feature.RELAXED_SIMD: "(func (param v128 v128) (result v128)"
    " (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))",
    Feature.THREADS: "(memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0))))",
    Feature.MEMORY64: "(memory i64 1)",
    Feature.MULTI_MEMORY: "(memory 1) (memory 1)",
    Feature.GC: "(type (struct (field i32))) (func (drop (struct.new_default 0)))",
    Feature.EXCEPTIONS: "(tag $e) (func (throw $e))",
}


@pytest.mark.parametrize("feature", list(Feature))
def test_each_refused_feature_is_named(feature: Feature) -> None:
    # relaxed SIMD builds on SIMD: allow that so the refusal is about relaxed SIMD itself.
    allowed = frozenset({Feature.SIMD}) if feature is Feature.RELAXED_SIMD else frozenset()
    wasm = bytes(wasmtime.wat2wasm(f"(module {FEATURES[feature]})"))
    config = RuntimeConfig(memory=MEMORY, features=FeaturePolicy(allowed))
    with Runtime(config) as runtime, pytest.raises(ModuleRejected) as caught:
        runtime.load(wasm)
    assert caught.value.subject == f"feature {feature.value}"


@pytest.mark.parametrize("feature", list(Feature))
def test_allowed_feature_gets_past_the_policy(feature: Feature) -> None:
    wasm = bytes(wasmtime.wat2wasm(f"(module {FEATURES[feature]})"))
    policy = FeaturePolicy(frozenset(Feature))
    with (
        Runtime(RuntimeConfig(memory=MEMORY, features=policy)) as runtime,
        pytest.raises(ModuleRejected) as caught,
    ):
        runtime.load(wasm)
    # It compiles; what stops it now is only the ABI (these modules export nothing).
    assert caught.value.subject.startswith("export ")


def test_feature_policy_parsing() -> None:
    assert FeaturePolicy.parse("simd, threads").allowed == {Feature.SIMD, Feature.THREADS}
    with pytest.raises(ConfigError, match="unknown feature 'sse'") as caught:
        FeaturePolicy.parse("sse")
    assert caught.value.setting == "CAXTON_WASM_FEATURES"
    with pytest.raises(ConfigError, match="relaxed-simd needs simd"):
        FeaturePolicy.parse("relaxed-simd")
