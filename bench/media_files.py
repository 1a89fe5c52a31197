"""Media files at rest (hotline/privacy/files.py): what encrypting into storage and streaming
back out costs, and that memory stays flat whatever the file's size.

Standalone (no dataset): `DJANGO_SETTINGS_MODULE=hotline.settings.test .venv/bin/python -m bench.media_files`.
Prints `name value unit` lines like the other benchmarks.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc

import django


def main(megabytes: int = 20, repeat: int = 5) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TEST_MEDIA_DIR"] = folder
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings.test")
        django.setup()
        from hotline.privacy import files

        chunk = os.urandom(64 * 1024)
        count = megabytes * 16

        def source():
            for _ in range(count):
                yield chunk

        store, read, peaks = [], [], []
        for _ in range(repeat):
            tracemalloc.start()
            started = time.perf_counter()
            stored = files.store(source())
            store.append(time.perf_counter() - started)
            started = time.perf_counter()
            total = sum(len(piece) for piece in files.open_plain(stored.name, stored.key))
            read.append(time.perf_counter() - started)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert total == count * len(chunk)
            files.delete(stored.name)
        print(f"media_store_{megabytes}mb {statistics.median(store) * 1000:.0f} ms")
        print(f"media_stream_back_{megabytes}mb {statistics.median(read) * 1000:.0f} ms")
        print(f"media_store_throughput {megabytes / statistics.median(store):.0f} MB/s")
        print(f"media_stream_throughput {megabytes / statistics.median(read):.0f} MB/s")
        print(f"media_peak_python_memory {max(peaks) / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
