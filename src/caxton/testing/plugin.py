"""The pytest plugin of caxton.testing (registered as `caxton` under pytest11).

Fixtures:

- `caxton`: a fresh `Harness` for the test, closed after it;
- `caxton_runtime`: the session's `Runtime`, shared by every harness so that a
  module compiled once is compiled for all tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from caxton.runtime import Runtime, RuntimeConfig
from caxton.testing import Harness


@pytest.fixture(scope="session")
def caxton_runtime() -> Iterator[Runtime]:
    with Runtime(RuntimeConfig.from_environment(os.environ)) as runtime:
        yield runtime


@pytest.fixture
def caxton(caxton_runtime: Runtime) -> Iterator[Harness]:
    with Harness(caxton_runtime) as harness:
        yield harness
