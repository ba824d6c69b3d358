"""Rate limits for the REST API: token buckets, global, per identity and per operation.

A request takes one token from every bucket that applies to it: the global
one, its identity's, and its operation's if that operation has a limit of
its own. A bucket holds at most `burst` tokens and gains `per_s` a second,
continuously. A request that finds any of its buckets short of a token is
refused and takes nothing from the others, so refusals cost nobody their
allowance, and a steady stream faster than the rate is allowed
`burst + per_s * T` requests in T seconds, to the token.

Scopes, as `caxton limit` and `/rate-limits` name them:

    global               every request together
    identity             each identity's default (a bucket per identity)
    identity:<subject>   one identity's own numbers, instead of the default
    operation:<name>     one operation, one bucket shared by every identity

`per_s` 0 means no limit. A change applies at once (buckets keep their
tokens, cut to the new burst) and is kept in the store (`rate_limits`), so
it outlives a restart; the settings' numbers are the defaults that `reset`
goes back to. Failed authentications are counted apart, per client address,
IPv6 by its /64 (what one subscriber usually holds, so walking through
addresses gains an attacker nothing); they are not a scope.

Per-identity and per-address buckets are kept up to a cap. A bucket that is
full again tells nothing (a new one starts full), so those are forgotten
first; past that, the least recently used.

Rejected designs: a lock per bucket (the all-or-nothing check needs every
bucket of a request at once, so it would need ordered locking; one lock held
for a few microseconds is simpler and no bottleneck at the API's rates);
fixed windows (they let twice the rate through across a window's edge); a
thread that sweeps idle buckets (forgetting full ones at the cap needs none).

`headers` follows draft-ietf-httpapi-ratelimit-headers-06, the last draft
with separate RateLimit-Limit, -Remaining and -Reset fields (Reset in delta
seconds), and RFC 9110 section 10.2.3 for Retry-After.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, final

from caxton.api.types import RateLimit
from caxton.errors import CaxtonError, ErrorClass
from caxton.security.permissions import OPERATIONS
from caxton.settings import RateLimitSettings
from caxton.store.ratelimits import RateLimits

__all__ = [
    "DEFAULT_MAX_BUCKETS",
    "MAX_BURST",
    "MAX_SCOPE_LENGTH",
    "UNLIMITED",
    "InvalidRateLimit",
    "RateLimiter",
    "Scope",
    "ScopeKind",
    "TokenBucket",
    "Verdict",
    "headers",
    "parse_scope",
]

log = logging.getLogger("caxton.security")

MAX_BURST: Final = 1_000_000_000
MAX_SCOPE_LENGTH: Final = 300  # the rate_limits table's CHECK
DEFAULT_MAX_BUCKETS: Final = 10_000
# Waits are rounded up to whole seconds; float noise must not make 2.0000000001 into 3.
_NOISE: Final = 1e-9
# A rate near 0 would make a wait of 1e300 s (or an overflow); no answer needs more than this.
_LONGEST_WAIT_S: Final = 10**9
_FAILED_AUTH: Final = "failed_auth"
_OPERATION_NAMES: Final = frozenset(operation.name for operation in OPERATIONS)

ScopeKind = Literal["global", "identity", "identity:", "operation:"]


class InvalidRateLimit(CaxtonError, ValueError):
    """A scope, rate or burst that no rate limit can have; `field` names which."""

    error_class = ErrorClass.VALIDATION

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class Scope(NamedTuple):
    """A parsed scope: its kind and, for `identity:` and `operation:`, the name after the colon."""

    kind: ScopeKind
    name: str = ""

    def __str__(self) -> str:
        return self.kind + self.name if self.name else self.kind


def parse_scope(scope: str) -> Scope:
    """`scope` as a `Scope`, or `InvalidRateLimit` (field `scope`) saying what is wrong with it."""
    if scope in ("global", "identity"):
        return Scope("global" if scope == "global" else "identity")
    prefix, colon, name = scope.partition(":")
    if not colon or prefix not in ("identity", "operation"):
        raise InvalidRateLimit(
            "scope",
            f"{scope!r} is not a rate-limit scope: "
            "global, identity, identity:<subject> or operation:<name>",
        )
    if not name:
        raise InvalidRateLimit("scope", f"{scope!r} names no {prefix} after the colon")
    if len(scope) > MAX_SCOPE_LENGTH:
        raise InvalidRateLimit(
            "scope", f"is {len(scope)} characters long; at most {MAX_SCOPE_LENGTH}"
        )
    if not name.isprintable():
        raise InvalidRateLimit("scope", f"{scope!r} holds characters that are not printable")
    if prefix == "operation" and name not in _OPERATION_NAMES:
        raise InvalidRateLimit(
            "scope",
            f"no operation is named {name!r}; the names are in the permissions table "
            "(docs/security.md), such as agents.invoke or messages.send",
        )
    return Scope("identity:" if prefix == "identity" else "operation:", name)


@dataclass(frozen=True, slots=True)
class _Limit:
    per_s: float
    burst: int

    @classmethod
    def checked(cls, per_s: float, burst: int) -> _Limit:
        if isinstance(per_s, bool) or not math.isfinite(per_s) or per_s < 0:
            raise InvalidRateLimit(
                "per_s", f"{per_s!r} is not a rate: a finite number, 0 or more (0: no limit)"
            )
        if isinstance(burst, bool) or not 1 <= burst <= MAX_BURST:
            raise InvalidRateLimit("burst", f"{burst!r} is out of range 1..{MAX_BURST}")
        return cls(float(per_s), burst)

    @property
    def unlimited(self) -> bool:
        return self.per_s == 0


@final
class TokenBucket:
    """At most `burst` tokens, `per_s` more every second (continuously); full when made.

    `clock` gives monotonic seconds (time.monotonic; tests drive their own).
    The methods taking `now` are for a caller that reads the clock once for
    several buckets; `now` must not go back.
    """

    __slots__ = ("_clock", "_tokens", "_updated", "burst", "per_s")

    def __init__(
        self, per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not (per_s > 0 and math.isfinite(per_s)) or burst < 1:
            raise ValueError(f"a token bucket needs per_s > 0 and burst >= 1, not {per_s}, {burst}")
        self.per_s = per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> bool:
        """One token, if there is one."""
        if self.level(self._clock()) < 1:
            return False
        self._tokens -= 1
        return True

    def tokens(self) -> float:
        """The tokens there are now, fractions included."""
        return self.level(self._clock())

    def level(self, now: float) -> float:
        """The tokens there are at `now`, fractions included."""
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_s)
            self._updated = now
        return self._tokens

    def spend(self) -> None:
        """Take one token: the caller saw `level(now) >= 1` just before."""
        self._tokens -= 1

    def change(self, per_s: float, burst: int, now: float) -> None:
        """New numbers from `now` on; the tokens are kept, cut to the new burst."""
        self.level(now)  # what was gained until now came at the old rate
        self.per_s = per_s
        self.burst = burst
        self._tokens = min(self._tokens, burst)

    def full(self, now: float) -> bool:
        return self.level(now) >= self.burst

    def full_in(self, now: float) -> float:
        """Seconds until the bucket is full."""
        return (self.burst - self.level(now)) / self.per_s

    def token_in(self, now: float) -> float:
        """Seconds until there is a whole token (0 if there is one)."""
        return max(0.0, (1 - self.level(now)) / self.per_s)


def _bucket(limit: _Limit, clock: Callable[[], float]) -> TokenBucket:
    return TokenBucket(limit.per_s, limit.burst, clock)


@final
class _Buckets:
    """Buckets by key, at most `capacity`: the full ones forgotten first, then the oldest used.

    When the cap is reached, the full buckets go, then the least recently used
    down to three quarters of the cap: a flood of new keys then costs one sweep
    per quarter-cap of them, not one per key.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be 1 or more, not {capacity}")
        self._capacity = capacity
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def get(self, key: str) -> TokenBucket | None:
        """The key's bucket, now the most recently used; None if it has none."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
        return bucket

    def add(self, key: str, bucket: TokenBucket, now: float) -> TokenBucket:
        if len(self._buckets) >= self._capacity:
            self._shrink(now)
        self._buckets[key] = bucket
        return bucket

    def pop(self, key: str) -> None:
        self._buckets.pop(key, None)

    def items(self) -> Iterator[tuple[str, TokenBucket]]:
        return iter(list(self._buckets.items()))

    def _shrink(self, now: float) -> None:
        for key in [key for key, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[key]
        for _ in range(len(self._buckets) - self._capacity * 3 // 4):
            self._buckets.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a bucket check decided, told by the tightest bucket checked.

    The tightest is the one with the fewest tokens left; when refused, the
    one short of a token that takes longest to get one. `scope` is empty (and
    the numbers 0) when no limit applied.
    """

    allowed: bool
    limit: int
    """The deciding bucket's burst"""
    remaining: int
    """Whole tokens left in it"""
    reset_s: int
    """Seconds until it is full again, rounded up"""
    retry_after_s: int
    """When refused: seconds until it has a token, rounded up, at least 1; else 0"""
    scope: str


UNLIMITED: Final = Verdict(allowed=True, limit=0, remaining=0, reset_s=0, retry_after_s=0, scope="")


def headers(verdict: Verdict) -> dict[str, str]:
    """The RateLimit-* fields of draft-ietf-httpapi-ratelimit-headers-06, Retry-After if refused.

    Empty when no limit applied: advertising a limit that is not there would mislead.
    """
    if not verdict.scope:
        return {}
    fields = {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(verdict.reset_s),
    }
    if not verdict.allowed:
        fields["Retry-After"] = str(verdict.retry_after_s)
    return fields


def _whole_seconds(seconds: float) -> int:
    if seconds >= _LONGEST_WAIT_S:  # inf too, which math.ceil refuses
        return _LONGEST_WAIT_S
    return max(0, math.ceil(seconds - _NOISE))


def _verdict(allowed: bool, scope: str, bucket: TokenBucket, now: float) -> Verdict:
    return Verdict(
        allowed=allowed,
        limit=bucket.burst,
        remaining=int(bucket.level(now)),
        reset_s=_whole_seconds(bucket.full_in(now)),
        retry_after_s=0 if allowed else max(1, _whole_seconds(bucket.token_in(now))),
        scope=scope,
    )


Checked = list[tuple[str, TokenBucket]]


def _decide(checked: Checked, now: float) -> Verdict:
    """All or nothing: a token from every bucket in `checked`, or from none."""
    if not checked:
        return UNLIMITED
    levels = [bucket.level(now) for _, bucket in checked]
    fewest = min(levels)
    if fewest < 1:
        short = [found for found, level in zip(checked, levels, strict=True) if level < 1]
        scope, bucket = max(short, key=lambda found: found[1].token_in(now))
        return _verdict(False, scope, bucket, now)
    for _, bucket in checked:
        bucket.spend()
    scope, bucket = checked[levels.index(fewest)]
    return _verdict(True, scope, bucket, now)


def _address_key(address: str) -> str:
    """Whose failed authentications these are: the address, an IPv6 one by its /64."""
    if ":" not in address:
        return address  # IPv4, or a name the transport gave (a test client's)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


@final
class RateLimiter:
    """The API's buckets: `take` for each request, `failed_auth` for each refused credential.

    Thread-safe: every method holds one lock while it reads or changes the
    buckets. `set` and `reset` write the store first, so that what is in
    force is what a restart finds.
    """

    def __init__(
        self,
        settings: RateLimitSettings,
        store: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = DEFAULT_MAX_BUCKETS,
    ) -> None:
        self._clock = clock
        self._store = store
        self._lock = threading.Lock()
        # Serialises changes, so that the store and the buckets see them in one order.
        self._changing = threading.Lock()
        # The settings were checked when they were loaded.
        self._defaults = {
            "global": _Limit(float(settings.global_per_s), settings.global_burst),
            "identity": _Limit(float(settings.identity_per_s), settings.identity_burst),
        }
        self._failed_limit = _Limit(
            settings.failed_auth_per_minute / 60, settings.failed_auth_burst
        )
        self._changed: dict[str, _Limit] = {}  # scopes changed at run time, as in the store
        self._global_limit = self._defaults["global"]
        self._global: TokenBucket | None = None
        self._identity_limit = self._defaults["identity"]
        self._own_limits: dict[str, _Limit] = {}  # subject → its identity:<subject> numbers
        self._identities = _Buckets(max_buckets)
        self._operation_limits: dict[str, _Limit] = {}
        self._operations: dict[str, TokenBucket] = {}
        self._failed = _Buckets(max_buckets)
        for record in store.all() if store is not None else []:
            self._restore(record.scope, record.per_s, record.burst)
        # Made after the store's change to it, if any, so that it starts full all the same.
        self._global = self._resized(self._global, self._global_limit, clock())

    def _restore(self, scope: str, per_s: float, burst: int) -> None:
        try:
            parsed, limit = parse_scope(scope), _Limit.checked(per_s, burst)
        except InvalidRateLimit as error:  # written by another version: keep serving
            log.warning("rate limit %r in the store ignored: %s", scope, error)
            return
        self._apply(parsed, limit, self._clock())

    # ---- the request path ----

    def take(self, identity: str, operation: str) -> Verdict:
        """A token for one request of `identity` to `operation`, from every bucket or none."""
        with self._lock:
            now = self._clock()
            checked: Checked = []
            if self._global is not None:
                checked.append(("global", self._global))
            own = self._identity_bucket(identity, now)
            if own is not None:
                checked.append(own)
            bucket = self._operation_bucket(operation)
            if bucket is not None:
                checked.append((f"operation:{operation}", bucket))
            return _decide(checked, now)

    def _identity_bucket(self, identity: str, now: float) -> tuple[str, TokenBucket] | None:
        own = self._own_limits.get(identity)
        limit = self._identity_limit if own is None else own
        if limit.unlimited:
            return None
        bucket = self._identities.get(identity)
        if bucket is None:
            bucket = self._identities.add(identity, _bucket(limit, self._clock), now)
        return ("identity" if own is None else f"identity:{identity}"), bucket

    def _operation_bucket(self, operation: str) -> TokenBucket | None:
        limit = self._operation_limits.get(operation)
        if limit is None or limit.unlimited:
            return None
        bucket = self._operations.get(operation)
        if bucket is None:
            bucket = self._operations[operation] = _bucket(limit, self._clock)
        return bucket

    def failed_auth(self, address: str) -> Verdict:
        """Count one failed authentication from `address`; refused if it had none left."""
        key = _address_key(address)
        with self._lock:
            now = self._clock()
            bucket = self._failed.get(key)
            if bucket is None:
                bucket = self._failed.add(key, _bucket(self._failed_limit, self._clock), now)
            if bucket.level(now) < 1:
                return _verdict(False, _FAILED_AUTH, bucket, now)
            bucket.spend()
            return _verdict(True, _FAILED_AUTH, bucket, now)

    def auth_blocked(self, address: str) -> Verdict | None:
        """The refusal for `address` if it has no failed authentication left; None if it may try.

        Charges nothing. Asking keeps the address's bucket among the recently
        used, so that an address that keeps trying is not the one forgotten.
        """
        if not len(self._failed):  # unlocked peek: the common case, nobody has failed
            return None
        key = _address_key(address)
        with self._lock:
            bucket = self._failed.get(key)
            if bucket is None:
                return None
            now = self._clock()
            return None if bucket.level(now) >= 1 else _verdict(False, _FAILED_AUTH, bucket, now)

    def tracked(self) -> dict[str, int]:
        """How many buckets are kept per identity and per address: the memory they hold."""
        with self._lock:
            return {"identity": len(self._identities), _FAILED_AUTH: len(self._failed)}

    # ---- changes ----

    def limits(self) -> list[RateLimit]:
        """global and identity, then every identity:<subject> and operation:<name>, by scope."""
        with self._lock:
            scopes = ["global", "identity"]
            scopes += sorted(scope for scope in self._changed if scope not in self._defaults)
            return [self._view(scope) for scope in scopes]

    def _view(self, scope: str) -> RateLimit:
        changed = self._changed.get(scope)
        limit = self._defaults[scope] if changed is None else changed
        source: Literal["settings", "runtime"] = "settings" if changed is None else "runtime"
        return RateLimit(scope=scope, per_s=limit.per_s, burst=limit.burst, source=source)

    def set(self, scope: str, per_s: float, burst: int, by: str) -> RateLimit:
        """New numbers for `scope`, in force at once and kept across restarts.

        Raises `InvalidRateLimit` naming the field at fault (scope, per_s, burst).
        """
        parsed, limit = parse_scope(scope), _Limit.checked(per_s, burst)
        with self._changing:
            if self._store is not None:
                self._store.set(str(parsed), limit.per_s, limit.burst, by)
            with self._lock:
                self._apply(parsed, limit, self._clock())
                view = self._view(str(parsed))
        log.info("rate limit %s set to %g/s, burst %d, by %s", parsed, limit.per_s, limit.burst, by)
        return view

    def reset(self, scope: str, by: str) -> bool:
        """Undo `scope`'s change made at run time; whether there was one.

        global and identity go back to the settings' numbers; identity:<subject>
        to the identity default; operation:<name> has no limit any more.
        """
        parsed = parse_scope(scope)
        with self._changing:
            stored = self._store.delete(str(parsed)) if self._store is not None else False
            with self._lock:
                changed = str(parsed) in self._changed
                self._apply(parsed, None, self._clock())
        if changed or stored:
            log.info("rate limit %s reset by %s", parsed, by)
        return changed or stored

    def _apply(self, scope: Scope, limit: _Limit | None, now: float) -> None:
        """Put `limit` in force for `scope` (None: undo its change); under the lock."""
        key = str(scope)
        if limit is None:
            self._changed.pop(key, None)
        else:
            self._changed[key] = limit
        match scope.kind:
            case "global":
                self._global_limit = limit or self._defaults["global"]
                self._global = self._resized(self._global, self._global_limit, now)
            case "identity":
                self._identity_limit = limit or self._defaults["identity"]
                for subject, bucket in self._identities.items():
                    if subject not in self._own_limits:
                        self._resize_identity(subject, bucket, self._identity_limit, now)
            case "identity:":
                if limit is None:
                    self._own_limits.pop(scope.name, None)
                else:
                    self._own_limits[scope.name] = limit
                found = self._identities.get(scope.name)
                if found is not None:
                    self._resize_identity(scope.name, found, limit or self._identity_limit, now)
            case "operation:":
                self._apply_operation(scope.name, limit, now)

    def _apply_operation(self, name: str, limit: _Limit | None, now: float) -> None:
        if limit is None:
            self._operation_limits.pop(name, None)
            self._operations.pop(name, None)
            return
        self._operation_limits[name] = limit
        bucket = self._operations.pop(name, None)
        if bucket is not None and not limit.unlimited:
            bucket.change(limit.per_s, limit.burst, now)
            self._operations[name] = bucket

    def _resize_identity(
        self, subject: str, bucket: TokenBucket, limit: _Limit, now: float
    ) -> None:
        if limit.unlimited:
            self._identities.pop(subject)
        else:
            bucket.change(limit.per_s, limit.burst, now)

    def _resized(self, bucket: TokenBucket | None, limit: _Limit, now: float) -> TokenBucket | None:
        """`bucket` with `limit`'s numbers; a new one if there was none; None for no limit."""
        if limit.unlimited:
            return None
        if bucket is None:
            return _bucket(limit, self._clock)
        bucket.change(limit.per_s, limit.burst, now)
        return bucket
