"""Work started at the same instant on several threads, for tests of what happens at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(*work: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each callable on its own thread, all released together by a barrier; return their
    results in the order given.

    Each thread has its own database connection (closed when it ends), so the callables meet
    in PostgreSQL as separate sessions would. An exception in a thread is raised here once all
    have ended (several: as an exception group); a thread still running after `timeout`
    seconds fails the test."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int, callable_: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = callable_()
        except BaseException as error:  # raised again by the calling thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w), daemon=True) for i, w in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BaseExceptionGroup(f"{len(errors)} of {len(work)} threads failed", errors)
    still_running = sum(thread.is_alive() for thread in threads)
    assert still_running == 0, f"{still_running} of {len(work)} threads still running after {timeout} s"
    return results
