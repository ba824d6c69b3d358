# caxton.mk - builds Caxton agents in C with this SDK (WASI reactors, ABI version 1).
#
# Include it from an agent's Makefile, then give each agent one rule:
#
#     CAXTON_SDK := caxton-sdk               # this file's directory (the default)
#     include $(CAXTON_SDK)/caxton.mk
#
#     build/my-agent.wasm: src/my_agent.c $(CAXTON_DEPS)
#     	$(caxton-link)
#
# caxton-link compiles the rule's .c prerequisites with the SDK's header on
# the include path and links them with the SDK's objects into $@. Each SDK
# source is compiled once into $(BUILD)/caxton-sdk/; wasm-ld keeps only the
# functions an agent calls. Including this file does not change which target
# `make` builds by default.
#
# Settings (make VAR=value):
#   CLANG          clang that targets wasm32-wasi (default: clang)
#   WASI_SYSROOT   a wasi-libc sysroot, when clang has none of its own
#                  (Debian's wasi-libc package needs none)
#   CFLAGS         default: -O2 -Wall -Wextra
#   BUILD          where objects and modules go (default: build)

caxton_default_goal := $(.DEFAULT_GOAL)

CAXTON_SDK ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CLANG ?= clang
WASI_SYSROOT ?=
CFLAGS ?= -O2 -Wall -Wextra
BUILD ?= build

CAXTON_TARGET := --target=wasm32-wasi $(if $(WASI_SYSROOT),--sysroot=$(WASI_SYSROOT))
# A reactor: the host calls _initialize once, then the agent's exports, never main.
# wasi-libc ships with DWARF; dropping it keeps the `name` section for backtraces.
CAXTON_LINK_FLAGS := -mexec-model=reactor -Wl,--strip-debug

# The SDK's sources (caxton_internal.h says what each holds); every one
# includes caxton_internal.h, which includes caxton.h.
CAXTON_SOURCES := $(addprefix $(CAXTON_SDK)/,buffer.c entry.c host.c json.c message.c protocols.c)
CAXTON_HEADERS := $(CAXTON_SDK)/caxton.h $(CAXTON_SDK)/caxton_internal.h
CAXTON_OBJECTS := $(patsubst $(CAXTON_SDK)/%.c,$(BUILD)/caxton-sdk/%.o,$(CAXTON_SOURCES))
CAXTON_DEPS := $(CAXTON_OBJECTS) $(CAXTON_SDK)/caxton.h

$(CAXTON_OBJECTS): $(BUILD)/caxton-sdk/%.o: $(CAXTON_SDK)/%.c $(CAXTON_HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(CAXTON_TARGET) $(CFLAGS) -c -o $@ $<

define caxton-link
@mkdir -p $(@D)
$(CLANG) $(CAXTON_TARGET) $(CFLAGS) -I$(CAXTON_SDK) $(CAXTON_LINK_FLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(CAXTON_OBJECTS)
endef

.DEFAULT_GOAL := $(caxton_default_goal)
