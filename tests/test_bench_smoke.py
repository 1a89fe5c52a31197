"""The benchmarks keep working: bench/run_all.py end to end at a tiny size (no timing asserted).

It runs as a subprocess against its own database (the test database's name + "_bench_smoke",
created and dropped here) and the test Redis database, and starts gunicorn on a port in 8400-8499.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
SIZE = 300


def _server() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}


def _database_url(name: str) -> str:
    server = _server()
    password = f":{server['password']}" if server["password"] else ""
    return f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"


@pytest.fixture
def smoke_database():
    name = settings.DATABASES["default"]["TEST"]["NAME"] + "_bench_smoke"
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_run_all_prints_every_figure_at_a_tiny_size(smoke_database, tmp_path):
    env = os.environ | {
        "DATABASE_URL": _database_url(smoke_database), "BENCH_REDIS_URL": settings.REDIS_URL,
        "BENCH_LOG_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "bench.settings", "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "bench/run_all.py", "--sizes", str(SIZE), "--repeat", "2", "--intake-count", "40",
         "--e2e-count", "40", "--burst", "60", "--paced-seconds", "0.5", "--live-seconds", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    log = tmp_path / "hotline-bench-gunicorn.log"
    assert result.returncode == 0, result.stdout + result.stderr + (log.read_text() if log.exists() else "")
    figures = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"(\w+) (-?[\d.]+) (\S+)", line)
        if match:
            figures[match[1]] = float(match[2])
    n = SIZE
    expected = [
        f"dashboard_ms_{n}", f"dashboard_ms_{n}_p95", f"dashboard_queries_{n}", f"dashboard_ms_{n}_30d",
        f"dashboard_metrics_ms_{n}_7d", f"queue_ms_{n}_p50", f"queue_ms_{n}_p95", f"queue_queries_{n}",
        f"queue_all_ms_{n}_p50", f"case_ms_{n}_p50", f"case_ms_{n}_p95", f"case_queries_{n}",
        "intake_updates_per_s", "bare_insert_per_s", "intake_ratio", f"sweep_seconds_{n}",
        f"sweep_commit_seconds_{n}", f"sweep_seconds_{n}_steady",
        "intake_e2e_per_s", "intake_bare_per_s", "intake_e2e_ratio", "intake_e2e_p50_ms_at_200",
        "intake_e2e_p95_ms_at_200", "intake_burst_60_s",
        f"search_first_name_ms_{n}_p50", f"search_surname_ms_{n}_p95", f"search_op_phone_ms_{n}_p50",
        "live_idle_requests_per_s", "live_busy_server_cpu_percent", "live_case_poll_queries_unchanged",
        # issue 18: over HTTP (gunicorn, production settings, password + TOTP), and memory
        f"queue_http_ms_{n}_p50", f"queue_unassigned_http_ms_{n}_p50", f"queue_all_http_ms_{n}_p50",
        f"case_http_ms_{n}_p50", f"dashboard_http_ms_{n}_p50", f"dashboard_http_ms_{n}_30d_p50",
        f"web_rss_mib_{n}", f"worker_rss_mib_{n}", "web_rss_mib", "worker_rss_mib",
    ]
    assert [name for name in expected if name not in figures] == [], result.stdout
    # What the benchmarks measured is right, whatever the timings.
    assert figures["intake_errors"] == 0
    assert figures["intake_e2e_errors"] == 0 and figures["intake_e2e_per_s"] > 0
    assert figures["live_idle_errors"] == 0 and figures["live_busy_errors"] == 0
    assert figures[f"search_results_surname_{n}"] >= 1 and figures[f"search_results_username_{n}"] == 1
    assert figures["intake_updates_per_s"] > 0 and figures["bare_insert_per_s"] > 0
    assert figures[f"sweep_queries_{n}"] == 3
    assert figures[f"sweep_overdue_{n}"] == n // 100 * 10
    # Either way the overdue cases get one flag: a wait first seen past the SLA is not warned
    # (hotline/sla.py); the at-risk flags are the cases between the thresholds.
    assert figures[f"sweep_at_risk_{n}"] == n // 100 * 3
    assert figures[f"sweep_queries_{n}_steady"] == 3
    assert figures[f"sweep_overdue_{n}_steady"] == n // 100 * 10
    assert figures[f"sweep_at_risk_{n}_steady"] == n // 100 * 3
    assert 0 <= figures[f"sweep_commit_seconds_{n}"] <= figures[f"sweep_seconds_{n}"]
    assert figures[f"dashboard_queries_{n}"] == figures[f"dashboard_queries_{n}_30d"]
