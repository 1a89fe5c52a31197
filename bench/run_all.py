"""Run every benchmark at the chosen sizes: `make bench BENCH_ARGS="--sizes 10000 100000"`.

A benchmark is a module in bench/ with `main(sizes: list[int]) -> None` that prints
`name value unit` lines; add it to BENCHMARKS. All of them share the dataset built by
bench/generate.py in the PostgreSQL database named by DATABASE_URL.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# In the order they run. A benchmark that rewrites the dataset (sweep) goes last.
BENCHMARKS = ["sweep"]
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH.parent))
    for name in args.only:
        print(f"# {name}", flush=True)
        importlib.import_module(f"bench.{name}").main(args.sizes)


if __name__ == "__main__":
    main()
