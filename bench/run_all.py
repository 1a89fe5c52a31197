"""Run every benchmark at the chosen sizes: `make bench BENCH_ARGS="--sizes 10000 100000"`.

A benchmark is a module in bench/ that prints `name value unit` lines. All of them share the
dataset built by bench/generate.py in the PostgreSQL database named by DATABASE_URL (default
hotline_bench; it is replaced, never point DATABASE_URL at real data).

Order, so each dataset is loaded as few times as possible:
    for each size: load it once, then the read-only benchmarks (READERS: dashboard, pages,
    search, memory), which measure in this process and over HTTP (gunicorn, production settings,
    password + TOTP sign-in); then live once (100 open case pages polling, on the last dataset);
    then intake once, then intake end to end (webhook and worker together; both add cases); then
    sweep, which loads a fresh dataset per size: the headline worst case (the sweep was down:
    every wait past a threshold is unflagged), then the steady state (the overdue cases were
    flagged at risk by earlier sweeps; figures end in _steady; --no-steady skips it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# run(n) on the dataset of size n, which they do not change (memory last: its Celery worker runs
# the SLA sweep, which flags the overdue cases)
READERS = ["dashboard", "pages", "search", "memory"]
BENCHMARKS = [*READERS, "live", "intake", "intake_e2e", "sweep"]
DEFAULT_SIZES = [10_000, 100_000]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], nargs="+", default=[DEFAULT_SIZES],
                        help="numbers of cases, space or comma separated (default 10000 100000)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    parser.add_argument("--repeat", type=int, default=None, help="timed requests per figure (readers)")
    parser.add_argument("--intake-count", type=int, default=None, help="updates per intake round")
    parser.add_argument("--e2e-count", type=int, default=None, help="intake_e2e: updates per round")
    parser.add_argument("--burst", type=int, default=None, help="intake_e2e: updates of the burst (10000)")
    parser.add_argument("--paced-seconds", type=float, default=None, help="intake_e2e: seconds offered at 200/s")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the readers and the sweep this many times per size and print the medians")
    parser.add_argument("--live-seconds", type=float, default=None,
                        help="live: seconds of each phase (idle, busy) of 100 open case pages polling")
    parser.add_argument("--no-steady", action="store_true",
                        help="sweep: skip the second figure (overdue cases already flagged at risk)")
    args = parser.parse_args(argv)
    sizes = [n for group in args.sizes for n in group]
    sys.path.insert(0, str(BENCH.parent))
    from bench import generate

    generate.setup_django()
    started = time.perf_counter()
    readers = [name for name in READERS if name in args.only]
    extra = {"repeat": args.repeat} if args.repeat else {}
    for n in sizes if readers else []:
        generate.ensure(n)
        rounds: list[dict[str, float]] = []
        for round_number in range(args.rounds):
            figures: dict[str, float] = {}
            for name in readers:
                print(f"# {name} {n}" + (f" round {round_number + 1}" if args.rounds > 1 else ""), flush=True)
                figures |= importlib.import_module(f"bench.{name}").run(n, **extra)
            rounds.append(figures)
        if args.rounds > 1:
            print(f"# readers {n}: median of {args.rounds} rounds", flush=True)
            for key in rounds[0]:
                value = statistics.median(r[key] for r in rounds)
                unit = "count" if "_queries_" in key else "MiB" if "_rss_" in key else "ms"
                print(f"{key} {value:g} {unit}" if unit == "count" else f"{key} {value:.1f} {unit}", flush=True)
    if "live" in args.only:
        print("# live", flush=True)
        importlib.import_module("bench.live").run(**({"seconds": args.live_seconds} if args.live_seconds else {}))
    if "intake" in args.only:
        print("# intake", flush=True)
        importlib.import_module("bench.intake").run(**({"count": args.intake_count} if args.intake_count else {}))
    if "intake_e2e" in args.only:
        print("# intake end to end (webhook and worker together)", flush=True)
        options = {"count": args.e2e_count, "burst": args.burst, "paced_seconds": args.paced_seconds}
        importlib.import_module("bench.intake").run_e2e(**{k: v for k, v in options.items() if v is not None})
    if "sweep" in args.only:
        print("# sweep", flush=True)
        sweep = importlib.import_module("bench.sweep")
        for n in sizes:
            sweep.run(n, repeat=args.rounds)
        for n in [] if args.no_steady else sizes:
            sweep.run(n, repeat=args.rounds, steady=True)
    import redis

    redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]).flushdb()  # the tasks nobody consumed
    print(f"bench_total_seconds {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
