"""Semantic versions (SemVer 2.0.0) and the version ranges capability searches take.

A `Version` is MAJOR.MINOR.PATCH with an optional pre-release and build
(`1.4.0-rc.1+build.7`), ordered as SemVer 2.0.0 section 11 says: numbers
numerically, a pre-release before its release, pre-release identifiers one
by one (numeric ones numerically and before alphanumeric ones, which compare
in ASCII order; more identifiers win when all before are equal), build
metadata ignored.

A `VersionRange` is written in npm's range syntax (node-semver), which most
developers already know, reduced to what a capability search needs:

    range       ::= set ( "||" set )*                   any set may match
    set         ::= comparator ( sep comparator )*      every comparator must match
                  | partial " - " partial               inclusive: >=A <=B
    sep         ::= ( "," | " " )+
    comparator  ::= op? partial                         "" is "=", an operator may be
    op          ::= "<" | "<=" | ">" | ">=" | "=" | "^" | "~"    followed by spaces
    partial     ::= "v"? part ( "." part ( "." part pre? build? )? )?
    part        ::= "0" | [1-9][0-9]*  |  "x" | "X" | "*"          once a wildcard, always
    pre         ::= "-" ident ( "." ident )*            (SemVer's identifiers: no
    build       ::= "+" ident ( "." ident )*             leading zeros in numbers)

What each form means (a missing part is a wildcard):

    1.2.3, =1.2.3   exactly 1.2.3 (build metadata ignored)
    1.2, 1.2.x      >=1.2.0 <1.3.0-0          1, 1.x    >=1.0.0 <2.0.0-0
    *, x, ""        any release
    >1.2            >=1.3.0                   >=1.2     >=1.2.0
    <1.2            <1.2.0-0                  <=1.2     <1.3.0-0
    ~1.2.3          >=1.2.3 <1.3.0-0          ~1.2      >=1.2.0 <1.3.0-0    ~1  >=1.0.0 <2.0.0-0
    ^1.2.3          >=1.2.3 <2.0.0-0          ^0.2.3    >=0.2.3 <0.3.0-0    ^0.0.3  >=0.0.3 <0.0.4-0
    ^1.2, ^1        >=1.2.0 <2.0.0-0, >=1.0.0 <2.0.0-0 (^0.x stays below 1.0.0-0)

Pre-releases, as node-semver treats them (SemVer orders them but says
nothing of ranges): a version with a pre-release matches a set only if the
set matches it and one of the set's comparators names a pre-release of the
same MAJOR.MINOR.PATCH. So `>=1.2.3-beta.1 <2` admits `1.2.3-beta.2` but
not `1.3.0-beta.1`, and `^1.2` admits no pre-release at all: a search asks
for what is stable unless it says otherwise.

Rejected designs: a PyPI library. `semver` (python-semver) has no caret,
tilde or x-ranges; `semantic_version`'s `NpmSpec` has them, but ships far
more than this needs and is rarely released. The grammar above is small
enough to own, and its error messages can name what is wrong.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from caxton.errors import CaxtonError, ErrorClass

# SemVer 2.0.0's own grammar (semver.org, "Is there a suggested regular expression").
_NUMBER: Final = r"0|[1-9]\d*"
_IDENT: Final = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_PRE: Final = rf"{_IDENT}(?:\.{_IDENT})*"
_BUILD: Final = r"[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*"
_VERSION: Final = re.compile(
    rf"(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>{_PRE}))?(?:\+(?P<build>{_BUILD}))?",
    re.ASCII,  # SemVer's digits are ASCII: \d alone would take any script's
)
# A version as an agent may have declared it before ranges existed: `1`, `1.0`, `v2.1.0`.
_SHORT: Final = re.compile(rf"v?(?P<major>{_NUMBER})(?:\.(?P<minor>{_NUMBER}))?", re.ASCII)
_PART: Final = rf"{_NUMBER}|[xX*]"
_COMPARATOR: Final = re.compile(
    rf"(?P<op><=|>=|<|>|=|\^|~)?v?(?P<major>{_PART})"
    rf"(?:\.(?P<minor>{_PART})(?:\.(?P<patch>{_PART})"
    rf"(?:-(?P<pre>{_PRE}))?(?:\+(?P<build>{_BUILD}))?)?)?",
    re.ASCII,
)
_OPERATOR_ONLY: Final = re.compile(r"<=|>=|<|>|=|\^|~")
_WILDCARDS: Final = frozenset("xX*")
_FORMS: Final = "e.g. 1.2.3, >=1.2.0 <2.0.0, ^1.2, ~1.4.1, 1.x or =1.2.3"


class InvalidVersion(CaxtonError, ValueError):
    """A version or a version range is not written as SemVer and docs/api.md say."""

    error_class = ErrorClass.VALIDATION


def _identifier(text: str) -> int | str:
    return int(text) if text.isascii() and text.isdigit() else text


@dataclass(frozen=True, slots=True, order=False)
class Version:
    """A SemVer 2.0.0 version. Compare with `<`, `==`...: precedence, build ignored."""

    major: int
    minor: int
    patch: int
    pre: tuple[int | str, ...] = ()
    build: tuple[str, ...] = field(default=(), compare=False)
    # SemVer precedence as one tuple: a release sorts after its pre-releases, numeric
    # identifiers before alphanumeric ones, a longer identifier list after its prefix.
    key: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pre_key = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.pre
        )
        key = (self.major, self.minor, self.patch, 0 if self.pre else 1, pre_key)
        object.__setattr__(self, "key", key)

    @classmethod
    def parse(cls, text: str) -> Version:
        """A strict SemVer 2.0.0 version (`1.2.3`, `1.2.3-rc.1+b5`), else `InvalidVersion`."""
        match = _VERSION.fullmatch(text)
        if match is None:
            raise InvalidVersion(
                f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0 or 2.0.0-rc.1)"
            )
        return cls._of(match["major"], match["minor"], match["patch"], match["pre"], match["build"])

    @classmethod
    def declared(cls, text: str) -> Version | None:
        """The version an agent declared, read leniently; None when it is not one.

        Strict SemVer first; then one or two numbers, with a leading `v` allowed,
        the missing parts zero (`1.0` is 1.0.0): agents declared such versions
        before ranges were searched, and ABI v1 does not constrain the text.
        """
        match = _VERSION.fullmatch(text.removeprefix("v"))
        if match is not None:
            return cls._of(
                match["major"], match["minor"], match["patch"], match["pre"], match["build"]
            )
        short = _SHORT.fullmatch(text)
        if short is None:
            return None
        return cls(int(short["major"]), int(short["minor"] or 0), 0)

    @classmethod
    def _of(cls, major: str, minor: str, patch: str, pre: str | None, build: str | None) -> Version:
        return cls(
            int(major),
            int(minor),
            int(patch),
            tuple(_identifier(part) for part in pre.split(".")) if pre else (),
            tuple(build.split(".")) if build else (),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __gt__(self, other: Version) -> bool:
        return self.key > other.key

    def __ge__(self, other: Version) -> bool:
        return self.key >= other.key

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(map(str, self.pre))
        if self.build:
            text += "+" + ".".join(self.build)
        return text


def _floor(major: int, minor: int = 0, patch: int = 0) -> Version:
    """The lowest version there is at or above MAJOR.MINOR.PATCH: its first pre-release."""
    return Version(major, minor, patch, (0,))


_TESTS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}


@dataclass(frozen=True, slots=True)
class _Bound:
    """One primitive comparator: `op` is one of < <= > >= =."""

    op: str
    version: Version

    def __str__(self) -> str:
        return f"{self.op}{self.version}"


_ANY: Final = _Bound(">=", Version(0, 0, 0))
_NOTHING: Final = _Bound("<", _floor(0))


@dataclass(frozen=True, slots=True)
class _Set:
    """Comparators that must all hold."""

    bounds: tuple[_Bound, ...]
    # Searches test many versions against one range: each bound as (operator, key), once.
    _checks: tuple[tuple[Callable[[Any, Any], bool], tuple[object, ...]], ...] = field(
        init=False, repr=False, compare=False
    )
    # The releases whose pre-releases the set may admit (node-semver's rule: only where a
    # comparator names a pre-release of the same MAJOR.MINOR.PATCH).
    _pre_releases_of: frozenset[tuple[int, int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = tuple((_TESTS[b.op], b.version.key) for b in self.bounds)
        object.__setattr__(self, "_checks", checks)
        named = frozenset(b.version.release for b in self.bounds if b.version.pre)
        object.__setattr__(self, "_pre_releases_of", named)

    def admits(self, version: Version) -> bool:
        key = version.key
        for test, bound in self._checks:
            if not test(key, bound):
                return False
        return not version.pre or version.release in self._pre_releases_of


@dataclass(frozen=True, slots=True)
class VersionRange:
    """Versions a search accepts; `VersionRange.parse(">=1.2 <2")`, then `version in r`."""

    text: str
    sets: tuple[_Set, ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """The range `text` writes (see the module's grammar), else `InvalidVersion`."""
        alternatives = text.split("||")
        sets = []
        for alternative in alternatives:
            if not alternative.strip() and len(alternatives) > 1:
                raise InvalidVersion(f"version range {text!r}: an empty alternative around '||'")
            sets.append(_Set(_parse_set(text, alternative)))
        return cls(text, tuple(sets))

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, Version):
            return False
        return any(alternative.admits(version) for alternative in self.sets)

    def admits(self, declared: str) -> bool:
        """Whether a declared version (read as `Version.declared` does) is in the range."""
        version = Version.declared(declared)
        return version is not None and version in self

    def __str__(self) -> str:
        """The range in primitive comparators, as matching sees it."""
        return " || ".join(" ".join(map(str, s.bounds)) for s in self.sets)


def _parse_set(whole: str, text: str) -> tuple[_Bound, ...]:
    tokens = [token for token in re.split(r"[\s,]+", text) if token]
    if len(tokens) == 3 and tokens[1] == "-":  # a hyphen range: inclusive at both ends
        low, high = (_partial(whole, token, allow_operator=False) for token in tokens[::2])
        return (*_at_least(low), *_at_most(high))
    # An operator may stand apart from its version (">= 1.2"): join them again.
    joined: list[str] = []
    for token in tokens:
        if joined and _OPERATOR_ONLY.fullmatch(joined[-1]):
            joined[-1] += token
        else:
            joined.append(token)
    if joined and _OPERATOR_ONLY.fullmatch(joined[-1]):
        raise InvalidVersion(
            f"version range {whole!r}: {joined[-1]!r} is not followed by a version"
        )
    if not joined:
        return (_ANY,)
    bounds: list[_Bound] = []
    for token in joined:
        bounds.extend(_comparator(whole, token))
    return tuple(bounds)


@dataclass(frozen=True, slots=True)
class _Partial:
    """A version with its missing or wildcard parts as None."""

    op: str
    major: int | None
    minor: int | None
    patch: int | None
    version: Version | None  # when all three parts are given


def _partial(whole: str, token: str, *, allow_operator: bool = True) -> _Partial:
    match = _COMPARATOR.fullmatch(token)
    if match is None or (match["op"] and not allow_operator):
        raise InvalidVersion(
            f"version range {whole!r}: {token!r} is not a version comparator ({_FORMS})"
        )
    parts: list[int | None] = []
    wildcard = False
    for name in ("major", "minor", "patch"):
        value = match[name]
        if value is None or value in _WILDCARDS:
            wildcard = True
            parts.append(None)
        elif wildcard:
            raise InvalidVersion(
                f"version range {whole!r}: {token!r} has a number after a wildcard"
            )
        else:
            parts.append(int(value))
    major, minor, patch = parts
    if (match["pre"] or match["build"]) and patch is None:
        raise InvalidVersion(
            f"version range {whole!r}: {token!r} has a pre-release or build without "
            "all of MAJOR.MINOR.PATCH"
        )
    version = None
    if major is not None and minor is not None and patch is not None:
        pre = tuple(_identifier(p) for p in match["pre"].split(".")) if match["pre"] else ()
        version = Version(major, minor, patch, pre)
    return _Partial(match["op"] or "=", major, minor, patch, version)


def _at_least(p: _Partial) -> tuple[_Bound, ...]:
    if p.major is None:
        return (_ANY,)
    return (_Bound(">=", p.version or Version(p.major, p.minor or 0, 0)),)


def _at_most(p: _Partial) -> tuple[_Bound, ...]:
    if p.major is None:
        return (_ANY,)
    if p.version is not None:
        return (_Bound("<=", p.version),)
    if p.minor is None:
        return (_Bound("<", _floor(p.major + 1)),)
    return (_Bound("<", _floor(p.major, p.minor + 1)),)


def _comparator(whole: str, token: str) -> tuple[_Bound, ...]:
    """The primitive bounds one comparator means (the table in the module's docstring)."""
    p = _partial(whole, token)
    op, major, minor = p.op, p.major, p.minor
    if major is None:  # *, x: every operator but < and > means any release
        return (_NOTHING,) if op in ("<", ">") else (_ANY,)
    if p.version is not None and op in ("<", "<=", ">", ">=", "="):
        return (_Bound(op, p.version),)
    match op:
        case "=":
            return (*_at_least(p), *_at_most(p))
        case ">=":
            return _at_least(p)
        case "<=":
            return _at_most(p)
        case ">":  # above every version the partial covers
            above = Version(major + 1, 0, 0) if minor is None else Version(major, minor + 1, 0)
            return (_Bound(">=", above),)
        case "<":  # below every version the partial covers
            return (_Bound("<", _floor(major, minor or 0)),)
        case "~":  # patch-level changes, or minor-level when only MAJOR is given
            low = p.version or Version(major, minor or 0, 0)
            high = _floor(major + 1) if minor is None else _floor(major, minor + 1)
            return (_Bound(">=", low), _Bound("<", high))
    # ^: changes that do not modify the left-most non-zero part
    low = p.version or Version(major, minor or 0, 0)
    if major > 0 or minor is None:
        high = _floor(major + 1)
    elif minor > 0 or p.patch is None:
        high = _floor(0, minor + 1)
    else:
        high = _floor(0, 0, p.patch + 1)
    return (_Bound(">=", low), _Bound("<", high))
