"""Asking the embedded stack's Prometheus over its HTTP API, as Grafana does."""

from __future__ import annotations

import time
from datetime import datetime

import httpx

POLL_S = 1.0


def query(url: str, expression: str) -> list[dict]:
    """The instant vector (or scalar) `expression` evaluates to now; raises on a bad query."""
    reply = httpx.get(f"{url}/api/v1/query", params={"query": expression}, timeout=10)
    body = reply.json()
    assert body.get("status") == "success", f"{expression}: {body}"
    data = body["data"]
    return data["result"] if data["resultType"] == "vector" else [{"value": data["result"]}]


def value(url: str, expression: str) -> float:
    """The one value `expression` evaluates to."""
    [sample] = query(url, expression)
    return float(sample["value"][1])


def wait_for_scrapes_after(url: str, moment: datetime, timeout: float) -> list[dict]:
    """Block until every target was scraped, successfully, after `moment`; the targets."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(f"{url}/api/v1/targets", params={"state": "active"}, timeout=10)
        targets = reply.json()["data"]["activeTargets"]
        late = [
            t["labels"].get("service", t["scrapeUrl"])
            for t in targets
            if t["health"] != "up" or datetime.fromisoformat(t["lastScrape"]) <= moment
        ]
        if targets and not late:
            return targets
        assert time.monotonic() < deadline, f"not scraped (up) after {moment}: {late}"
        time.sleep(POLL_S)


def wait_until_all_return_series(
    url: str, expressions: list[str], may_be_empty: set[str], timeout: float
) -> set[str]:
    """Poll until every expression but `may_be_empty` returns series (rules evaluate on their
    own clock); the expressions that still return none."""
    deadline = time.monotonic() + timeout
    while True:
        empty = {expression for expression in expressions if not query(url, expression)}
        if empty <= may_be_empty or time.monotonic() > deadline:
            return empty
        time.sleep(POLL_S)
