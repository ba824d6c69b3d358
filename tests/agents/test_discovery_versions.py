"""SemVer versions and ranges (caxton.agents.versions): examples from SemVer 2.0.0 and
node-semver's documentation, then properties over generated versions and ranges."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caxton.agents.versions import InvalidVersion, Version, VersionRange


def admitted(range_text: str, *versions: str) -> list[str]:
    parsed = VersionRange.parse(range_text)
    return [text for text in versions if Version.parse(text) in parsed]


# ---- versions ----


def test_precedence_follows_semver_section_11() -> None:
    # The chain semver.org gives, in order.
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ]
    parsed = [Version.parse(text) for text in chain]
    shuffled = [parsed[i] for i in (5, 0, 10, 3, 8, 1, 6, 9, 2, 7, 4)]
    assert sorted(shuffled) == parsed
    assert all(a < b for a, b in itertools.pairwise(parsed))


def test_build_metadata_is_kept_but_ignored_in_precedence() -> None:
    plain, built = Version.parse("1.0.0"), Version.parse("1.0.0+20130313144700")
    assert plain == built
    assert hash(plain) == hash(built)
    assert str(built) == "1.0.0+20130313144700"
    assert built.build == ("20130313144700",)


@pytest.mark.parametrize(
    "text",
    [
        *("1", "1.2", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+", "v1.2.3", " 1.2.3"),
        *("a.b.c", "1.\u0663.0", "1.2.3-\u0663"),  # SemVer's digits are ASCII ones
    ],
)
def test_strict_parsing_refuses_what_semver_does_not_allow(text: str) -> None:
    with pytest.raises(InvalidVersion, match="not a semantic version"):
        Version.parse(text)


def test_declared_versions_are_read_leniently() -> None:
    assert Version.declared("1.4.2-rc.1") == Version(1, 4, 2, ("rc", 1))
    assert Version.declared("v2.0.1") == Version(2, 0, 1)
    assert Version.declared("1.0") == Version(1, 0, 0)
    assert Version.declared("3") == Version(3, 0, 0)
    for not_semver in ("", "latest", "1.0.0.0", "01", "1.x"):
        assert Version.declared(not_semver) is None, not_semver


# ---- ranges: the documented forms ----

# 1.2.0 up to 2.0.0, as most of the ranges below admit.
ONE_TWO_UP = ["1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.4.1", "1.4.7", "1.5.0", "1.9.9"]
BELOW_ONE_TWO = ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0", "1.0.0"]

CANDIDATES = (
    "0.0.3",
    "0.0.4",
    "0.2.3",
    "0.2.9",
    "0.3.0",
    "1.0.0",
    "1.2.0",
    "1.2.3",
    "1.2.9",
    "1.3.0",
    "1.4.1",
    "1.4.7",
    "1.5.0",
    "1.9.9",
    "2.0.0",
    "2.0.0-rc.1",
    "1.2.3-beta.2",
    "1.3.0-beta.1",
)


@pytest.mark.parametrize(
    ("range_text", "expected"),
    [
        (">=1.2.0 <2.0.0", ONE_TWO_UP),
        (">=1.2.0, <2.0.0", ONE_TWO_UP),
        (">= 1.2.0 , < 2", ONE_TWO_UP),
        ("^1.2", ONE_TWO_UP),
        ("^1.2.3", ["1.2.3", "1.2.9", "1.3.0", "1.4.1", "1.4.7", "1.5.0", "1.9.9"]),
        ("^0.2.3", ["0.2.3", "0.2.9"]),
        ("^0.0.3", ["0.0.3"]),
        ("^0.0", ["0.0.3", "0.0.4"]),
        ("^0", ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0"]),
        ("~1.4.1", ["1.4.1", "1.4.7"]),
        ("~1.2", ["1.2.0", "1.2.3", "1.2.9"]),
        ("~1", ["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.4.1", "1.4.7", "1.5.0", "1.9.9"]),
        ("1.x", ["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.4.1", "1.4.7", "1.5.0", "1.9.9"]),
        ("1.2.X", ["1.2.0", "1.2.3", "1.2.9"]),
        ("1.2", ["1.2.0", "1.2.3", "1.2.9"]),
        ("=1.2.3", ["1.2.3"]),
        ("v1.2.3", ["1.2.3"]),
        ("1.2.3+build.9", ["1.2.3"]),
        (">1.4", ["1.5.0", "1.9.9", "2.0.0"]),
        (">1.4.1", ["1.4.7", "1.5.0", "1.9.9", "2.0.0"]),
        ("<1.2", BELOW_ONE_TWO),
        ("<=1.2", [*BELOW_ONE_TWO, "1.2.0", "1.2.3", "1.2.9"]),
        ("1.2.3 - 1.4", ["1.2.3", "1.2.9", "1.3.0", "1.4.1", "1.4.7"]),
        ("^0.2 || ~1.4 || =2.0.0", ["0.2.3", "0.2.9", "1.4.1", "1.4.7", "2.0.0"]),
        ("<*", []),
        # Pre-releases: only where a comparator names one of the same MAJOR.MINOR.PATCH.
        (">=1.2.3-beta.1 <2", [*CANDIDATES[7:14], "1.2.3-beta.2"]),
        ("~1.2.3-beta.2", ["1.2.3", "1.2.9", "1.2.3-beta.2"]),
        (">=2.0.0-rc.1", ["2.0.0", "2.0.0-rc.1"]),
        (">=2.0.0-rc.2", ["2.0.0"]),
    ],
)
def test_ranges_admit_what_node_semver_documents(range_text: str, expected: list[str]) -> None:
    assert sorted(admitted(range_text, *CANDIDATES), key=Version.parse) == sorted(
        expected, key=Version.parse
    )


@pytest.mark.parametrize("any_release", ["*", "x", "", "  ", ">=0.0.0", "^*", "~x", "<=*"])
def test_wildcards_admit_every_release_and_no_pre_release(any_release: str) -> None:
    assert admitted(any_release, *CANDIDATES) == [v for v in CANDIDATES if not Version.parse(v).pre]


def test_a_range_reads_as_its_primitive_comparators() -> None:
    assert str(VersionRange.parse("^1.2")) == ">=1.2.0 <2.0.0-0"
    assert str(VersionRange.parse("~1.4.1")) == ">=1.4.1 <1.5.0-0"
    assert str(VersionRange.parse("1.x || >=3, <3.1")) == ">=1.0.0 <2.0.0-0 || >=3.0.0 <3.1.0-0"


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("~>1.2", "'~>1.2' is not a version comparator"),
        ("1.x.3", "'1.x.3' has a number after a wildcard"),
        ("01.2", "'01.2' is not a version comparator"),
        (">=", "'>=' is not followed by a version"),
        ("^1.2 ||", "an empty alternative"),
        ("latest", "'latest' is not a version comparator"),
        ("1.2-beta", "'1.2-beta' is not a version comparator"),
        ("1.2.x-beta", "has a pre-release or build without all of MAJOR.MINOR.PATCH"),
        ("1.2.3 - >2", "'>2' is not a version comparator"),
    ],
)
def test_a_bad_range_is_refused_naming_the_culprit(bad: str, named: str) -> None:
    with pytest.raises(InvalidVersion) as refused:
        VersionRange.parse(bad)
    assert named in str(refused.value)
    assert repr(bad) in str(refused.value)


def test_admits_reads_declared_versions_and_skips_what_is_not_semver() -> None:
    caret = VersionRange.parse("^1.0")
    assert caret.admits("1.0")
    assert caret.admits("v1.4.0")
    assert not caret.admits("latest")
    assert "1.0.0" not in caret  # a string is not a Version


# ---- properties ----

numbers = st.integers(min_value=0, max_value=30)
identifiers = st.one_of(
    st.integers(min_value=0, max_value=50), st.sampled_from(["alpha", "beta", "rc", "x-1", "b7"])
)
pre_releases = st.lists(identifiers, max_size=3).map(tuple)
releases = st.builds(Version, numbers, numbers, numbers)
versions = st.builds(
    Version,
    numbers,
    numbers,
    numbers,
    pre_releases,
    st.lists(st.sampled_from(["build", "5", "sha-1"]), max_size=2).map(tuple),
)


@given(versions)
def test_text_round_trips(version: Version) -> None:
    again = Version.parse(str(version))
    assert again == version
    assert (again.pre, again.build) == (version.pre, version.build)


@given(versions, versions, versions)
def test_precedence_is_a_total_order(a: Version, b: Version, c: Version) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a <= b) == (not a > b)
    if a <= b <= c:
        assert a <= c


@given(versions, versions)
def test_a_pre_release_sorts_before_its_release(a: Version, b: Version) -> None:
    release = Version(*a.release)
    if a.pre:
        assert a < release
    if a.release < b.release:
        assert a < b


def caret_ceiling(v: Version) -> Version:
    """The first version ^v excludes, written independently of the parser's desugaring."""
    if v.major:
        return Version(v.major + 1, 0, 0)
    if v.minor:
        return Version(0, v.minor + 1, 0)
    return Version(0, 0, v.patch + 1)


@given(releases, releases)
def test_caret_and_tilde_against_a_model(base: Version, other: Version) -> None:
    caret = VersionRange.parse(f"^{base}")
    assert (other in caret) == (base <= other < caret_ceiling(base))
    tilde = VersionRange.parse(f"~{base}")
    assert (other in tilde) == (base <= other < Version(base.major, base.minor + 1, 0))
    x_range = VersionRange.parse(f"{base.major}.x")
    assert (other in x_range) == (other.major == base.major)


@given(releases, versions)
def test_the_operators_against_precedence(base: Version, other: Version) -> None:
    if other.pre:
        return  # a pre-release is only admitted by ranges that name one: tested below
    for op, holds in (
        ("<", other < base),
        ("<=", other <= base),
        (">", other > base),
        (">=", other >= base),
        ("=", other == base),
        ("", other == base),
    ):
        assert (other in VersionRange.parse(f"{op}{base}")) == holds, op


@given(releases, releases, st.sampled_from(["", "^", "~", ">=", "<", "<="]), versions)
def test_comma_and_space_mean_and_and_bars_mean_or(
    a: Version, b: Version, op: str, other: Version
) -> None:
    left, right = VersionRange.parse(f"{op}{a}"), VersionRange.parse(f">={b}")
    both = other in left and other in right
    assert (other in VersionRange.parse(f"{op}{a}, >={b}")) == both
    assert (other in VersionRange.parse(f"{op}{a} >={b}")) == both
    either = other in left or other in right
    assert (other in VersionRange.parse(f"{op}{a} || >={b}")) == either


@given(releases, st.sampled_from(["^", "~", ">=", "<", "<=", ">", ""]), versions)
def test_a_pre_release_needs_a_comparator_that_names_its_release(
    base: Version, op: str, candidate: Version
) -> None:
    if candidate.pre:
        assert candidate not in VersionRange.parse(f"{op}{base}")
        named = Version(*candidate.release, candidate.pre)
        assert candidate in VersionRange.parse(f">={named} <={Version(*candidate.release)}")


@given(st.text(max_size=40))
def test_any_text_parses_or_is_refused_as_invalid(text: str) -> None:
    try:
        parsed = VersionRange.parse(text)
    except InvalidVersion as error:
        refusal = str(error)
        assert repr(text) in refusal
        return
    assert str(parsed)  # reads back as comparators
