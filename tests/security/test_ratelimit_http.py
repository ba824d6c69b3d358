"""Rate limits over real HTTP: as many requests as the bucket allows, to within 1%."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from live import live_server

# Tokens are lost only while the bucket is full, that is when no request comes for
# BURST / RATE seconds: 4 s here, longer than the run, so a loaded machine stalling the
# clients or the server cannot make fewer requests pass than burst + rate * T.
RATE = 50.0
BURST = 200
RUN_S = 3.0
CLIENTS = 4


def test_an_identity_gets_burst_plus_rate_times_t_within_one_percent(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as live:
        made = live.post("/auth/keys", json={"role": "viewer", "name": "hammer"}).json()
        scope = f"identity:key:{made['key']['id']}"
        changed = live.client.put(f"/rate-limits/{scope}", json={"per_s": RATE, "burst": BURST})
        assert changed.status_code == 200, changed.text
        statuses: Counter[int] = Counter()
        refusals: list[httpx.Response] = []
        # When the first request left and the last answer came: the span the server saw,
        # give or take one round trip.
        span = [float("inf"), 0.0]
        lock = threading.Lock()
        stop_at = time.monotonic() + RUN_S

        def hammer() -> None:
            headers = {"Authorization": f"Bearer {made['token']}"}
            with httpx.Client(base_url=live.api, headers=headers, timeout=30) as client:
                while (sent := time.monotonic()) < stop_at:
                    answer = client.get("/server")
                    answered = time.monotonic()
                    with lock:
                        span[0], span[1] = min(span[0], sent), max(span[1], answered)
                        statuses[answer.status_code] += 1
                        if answer.status_code == 429 and len(refusals) < 1:
                            refusals.append(answer)

        threads = [threading.Thread(target=hammer) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    expected = BURST + RATE * (span[1] - span[0])
    assert set(statuses) == {200, 429}, statuses  # the clients outran the rate
    assert abs(statuses[200] - expected) <= 0.01 * expected, (statuses, expected)
    refused = refusals[0]
    assert refused.json()["code"] == "rate-limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-limit"] == str(BURST)
    assert refused.headers["ratelimit-remaining"] == "0"
