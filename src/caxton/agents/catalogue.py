"""The capability catalogue: who offers what, in memory, kept in step with the registry.

The store's `capabilities` table is the durable record; this is the index
that searches read (the API's `GET /capabilities` and the built-in
`directory` agent, which answers on a dispatcher thread and must not wait
on SQLite). The agent manager writes both at the same points: an agent's
whole set when `caxton_init` succeeds, one more when a handler declares it,
the lifecycle state at every transition, nothing once the agent is removed.

Each agent's declared versions are parsed once, when declared, so a search
costs a dict lookup and one tuple comparison per provider.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from caxton.agents.lifecycle import StateName
from caxton.agents.versions import Version, VersionRange
from caxton.store import Capability

# What "can answer now" means: only a Running agent takes new messages.
ANSWERING: Final = frozenset({StateName.RUNNING})


@dataclass(frozen=True, slots=True)
class Offer:
    """One capability one agent declared, with the agent's state when searched."""

    agent: str
    state: StateName
    capability: Capability
    semver: Version | None
    """The declared version as SemVer (`Version.declared`); None when it is not one"""


@dataclass(frozen=True, slots=True)
class _Declared:
    capability: Capability
    semver: Version | None
    # Agents by name, then versions by SemVer precedence; those that are not SemVer last.
    order: tuple[object, ...]


def _declared(capability: Capability) -> _Declared:
    semver = Version.declared(capability.version)
    order = (0, semver.key) if semver is not None else (1, capability.version)
    return _Declared(capability, semver, order)


class Catalogue:
    """Thread-safe: writers and searches share one lock, held for dict operations only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, StateName] = {}
        # capability name -> agent -> what that agent declared under the name
        self._by_name: dict[str, dict[str, tuple[_Declared, ...]]] = {}
        self._names_of: dict[str, set[str]] = {}  # agent -> capability names it declared
        # capability name -> its offers by agent name, sorted once, until the name changes
        self._listings: dict[str, tuple[tuple[str, tuple[_Declared, ...]], ...]] = {}

    # Writes: the manager's.

    def set_state(self, agent: str, state: StateName) -> None:
        with self._lock:
            self._states[agent] = state

    def replace(self, agent: str, capabilities: Iterable[Capability]) -> None:
        """Make `capabilities` the agent's whole set, as `Capabilities.replace` does."""
        fresh: dict[str, dict[str, _Declared]] = {}
        for capability in capabilities:
            fresh.setdefault(capability.name, {})[capability.version] = _declared(capability)
        with self._lock:
            self._drop(agent)
            for name, versions in fresh.items():
                self._by_name.setdefault(name, {})[agent] = _sorted(versions.values())
                self._listings.pop(name, None)
            self._names_of[agent] = set(fresh)

    def add(self, agent: str, capability: Capability) -> None:
        """One more, as `Capabilities.add` does: the same name and version is replaced."""
        entry = _declared(capability)
        with self._lock:
            offers = self._by_name.setdefault(capability.name, {})
            kept = [d for d in offers.get(agent, ()) if d.capability.version != capability.version]
            offers[agent] = _sorted([*kept, entry])
            self._listings.pop(capability.name, None)
            self._names_of.setdefault(agent, set()).add(capability.name)

    def forget(self, agent: str) -> None:
        """The agent is removed: its state and everything it declared."""
        with self._lock:
            self._drop(agent)
            self._states.pop(agent, None)

    def _drop(self, agent: str) -> None:
        for name in self._names_of.pop(agent, ()):
            self._listings.pop(name, None)
            offers = self._by_name.get(name)
            if offers is not None:
                offers.pop(agent, None)
                if not offers:
                    del self._by_name[name]

    # Reads.

    def search(
        self,
        name: str,
        versions: VersionRange | None = None,
        *,
        states: frozenset[StateName] | None = ANSWERING,
    ) -> list[Offer]:
        """Who offers capability `name` in `versions` (any version when None), by agent
        then version; only agents in `states` (every state when None)."""
        with self._lock:
            listing = self._listings.get(name)
            if listing is None:
                offers = self._by_name.get(name)
                if not offers:
                    return []
                listing = self._listings[name] = tuple(sorted(offers.items(), key=_by_agent))
            known = self._states
            found = [(agent, known.get(agent), declared) for agent, declared in listing]
        return [
            Offer(agent, state, d.capability, d.semver)
            for agent, state, declared in found
            if state is not None and (states is None or state in states)
            for d in declared
            if versions is None or (d.semver is not None and d.semver in versions)
        ]

    def of(self, agent: str) -> list[Capability]:
        """What `agent` declared, by name then version."""
        with self._lock:
            names = sorted(self._names_of.get(agent, ()))
            return [d.capability for name in names for d in self._by_name[name][agent]]

    def state(self, agent: str) -> StateName | None:
        with self._lock:
            return self._states.get(agent)


def _sorted(declared: Iterable[_Declared]) -> tuple[_Declared, ...]:
    return tuple(sorted(declared, key=lambda d: d.order))


def _by_agent(item: tuple[str, tuple[_Declared, ...]]) -> str:
    return item[0]
