# Make rules for Caxton agents in Rust, built with rustc alone: no cargo, no
# registry, nothing fetched. Include it after setting
#   SDK    this directory (the `caxton` crate)
#   BUILD  where the outputs go
# then make each agent `$(BUILD)/NAME.wasm` depend on its source and
# $(CAXTON_RLIB), with `$(caxton_agent)` as the recipe. Overridable:
#   RUSTC=/path/to/rustc TARGET=wasm32-wasi RUSTFLAGS="-C opt-level=3"

CAXTON_TOOLCHAIN := $(shell sh $(SDK)/find-rustc $(RUSTC))
CAXTON_RUSTC := $(word 1,$(CAXTON_TOOLCHAIN))
CAXTON_TARGET := $(or $(TARGET),$(word 2,$(CAXTON_TOOLCHAIN)),wasm32-wasi)
# Without LTO an agent links in a third of a second; `-C lto` makes modules about
# 20% smaller (130 KB instead of 160 KB for echo) for ten times the link time:
#   make RUSTFLAGS="-C opt-level=s -C lto"
RUSTFLAGS ?= -C opt-level=s
# panic=abort: wasm32 cannot unwind, and a panic should trap at once (the SDK's
# hook logs it first).
CAXTON_FLAGS := --edition 2021 --target $(CAXTON_TARGET) -C panic=abort \
  -C codegen-units=1 -C strip=debuginfo
CAXTON_RLIB := $(BUILD)/libcaxton.rlib

define caxton_need_rustc
	@test -n "$(CAXTON_RUSTC)" || { \
	  echo "no rustc with the wasm32-wasi standard library found$(if $(RUSTC), (RUSTC=$(RUSTC)))." >&2; \
	  echo "On Debian 12: apt-get install --no-install-recommends rustc libstd-rust-dev-wasm32 lld-14" >&2; \
	  echo "(the Caxton repository's scripts/toolchains/rust does that); with rustup:" >&2; \
	  echo "rustup target add wasm32-wasip1." >&2; exit 1; }
endef

# The recipe of an agent: `$<` its root source file, `$@` the .wasm.
define caxton_agent
	$(caxton_need_rustc)
	$(CAXTON_RUSTC) $(CAXTON_FLAGS) $(RUSTFLAGS) --crate-type cdylib \
	  --crate-name $(subst -,_,$(basename $(notdir $@))) \
	  --extern caxton=$(CAXTON_RLIB) -L $(BUILD) -o $@ $<
endef

$(CAXTON_RLIB): $(wildcard $(SDK)/src/*.rs $(SDK)/src/*/*.rs) | $(BUILD)
	$(caxton_need_rustc)
	$(CAXTON_RUSTC) $(CAXTON_FLAGS) $(RUSTFLAGS) --crate-type rlib --crate-name caxton \
	  -o $@ $(SDK)/src/lib.rs

$(BUILD):
	mkdir -p $@
