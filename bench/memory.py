"""Memory at scale: the peak resident set of a web worker and of a Celery worker.

Web: gunicorn (2 sync workers, production settings, bench/measure.py) serves every page kind
to a signed-in operator and supervisor (each queue, case pages, the dashboard for 7 and 30
days, the metrics API); the figure is the larger worker's VmHWM.
Worker: a real Celery worker (production settings, one prefork process, the periodic and
intake queues) runs the periodic jobs that read the most at scale: the SLA sweep over every
open case, the ledgers' compaction, the delivery recovery, the intake drain (auto-assignment
off, retention not run: they would change the dataset). The figure is the largest VmHWM of
the worker's processes once the jobs are done.

Prints, per size n: web_rss_mib_<n>, worker_rss_mib_<n>, and the same as web_rss_mib and
worker_rss_mib (the last size run: the largest, in make bench).

    python bench/memory.py --sizes 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

try:
    from bench import generate, measure
except ImportError:  # run as a script
    import generate  # type: ignore[no-redef]
    import measure  # type: ignore[no-redef]

DEFAULT_SIZES = [1_000_000]
PERIODIC_JOBS = ["SLA_SWEEP", "CASE_COUNTS_COMPACT", "DELIVERY_RECOVER", "PROCESS_UPDATES"]


def web_rss(n: int) -> float:
    from django.db import connection

    from hotline.models import Case

    owned = list(Case.objects.filter(owner__username="bench-op-001").order_by("pk").values_list("pk", flat=True))
    cases = owned[:: max(len(owned) // 20, 1)][:20]
    connection.close()
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-memory-gunicorn.log"  # noqa: S108
    with measure.WebServer(log) as server:
        operator, supervisor = measure.Browser(server.port), measure.Browser(server.port)
        operator.sign_in("bench-op-001")
        supervisor.sign_in("bench-op-000")
        for _ in range(3):  # each page several times: both workers serve each kind
            for scope in ("mine", "unassigned"):
                operator.get(f"/?scope={scope}")
            supervisor.get("/?scope=all")
            for pk in cases:
                operator.get(f"/cases/{pk}/")
            for period in ("7d", "30d"):
                supervisor.get(f"/dashboard/?period={period}")
                supervisor.get(f"/api/v1/metrics/?period={period}", Accept="application/json")
        return max(measure.peak_rss_mib(pid) for pid in server.worker_pids())


def worker_rss(n: int) -> float:
    from hotline import queueing
    from hotline.celery import app

    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / "hotline-bench-memory-worker.log"  # noqa: S108
    env = measure.production_env() | {"AUTO_ASSIGN": "false"}
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(  # noqa: S603 - our own command line
        [str(celery), "-A", "hotline", "worker", "-Q", "periodic,intake", "--concurrency=1", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname=bench-memory@%h"],
        cwd=measure.ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        with app.connection_for_write(os.environ["BENCH_REDIS_URL"]) as conn:
            for job in PERIODIC_JOBS:
                name = getattr(queueing, job)
                queue = "intake" if job == "PROCESS_UPDATES" else "periodic"
                app.send_task(name, connection=conn, queue=queue)
        deadline = time.monotonic() + 300
        while log.read_text(errors="replace").count(" succeeded in ") < len(PERIODIC_JOBS):
            text = log.read_text(errors="replace")
            if worker.poll() is not None or time.monotonic() > deadline or " raised unexpected" in text:
                raise RuntimeError(f"the periodic jobs did not finish:\n{text[-3000:]}")
            time.sleep(0.5)
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        return max(measure.peak_rss_mib(pid) for pid in [worker.pid, *map(int, children)])
    finally:
        measure.stop_process(worker)


def run(n: int, **_: object) -> dict[str, float]:
    generate.ensure(n)
    web, worker = web_rss(n), worker_rss(n)
    # Unsuffixed too: the figure of the last size run (make bench runs the sizes in order).
    figures = {f"web_rss_mib_{n}": web, f"worker_rss_mib_{n}": worker, "web_rss_mib": web, "worker_rss_mib": worker}
    for key, value in figures.items():
        print(f"{key} {value:.0f} MiB", flush=True)
    return figures


def main(sizes: list[int]) -> None:
    generate.setup_django()
    for n in sizes:
        run(n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    args = parser.parse_args()
    main(args.sizes)
