"""Timing helpers shared by the benchmarks: samples, median, p95, and the `name value unit` lines."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """Linear interpolation between the nearest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(call: Callable[[], Any], *, repeat: int, warmup: int = 1) -> tuple[list[float], list[int]]:
    """Milliseconds and statement counts of `repeat` calls, after `warmup` untimed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        call()
    millis, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            millis.append((time.perf_counter() - started) * 1000)
        queries.append(sum(1 for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")))
    return millis, queries


def report(
    name: str, millis: list[float], queries: list[int] | None = None, *, query_name: str = "",
) -> dict[str, float]:
    """Print `<name> <median> ms`, `<name>_p95`, and the query count (the largest seen)."""
    figures = {name: statistics.median(millis), f"{name}_p95": percentile(millis, 0.95)}
    for key, value in figures.items():
        print(f"{key} {value:.1f} ms", flush=True)
    if queries is not None:
        figures[query_name] = max(queries)
        print(f"{query_name} {max(queries)} count", flush=True)
    return figures
