"""The migration history: linear, and it builds (and unbuilds) an empty database on SQLite and
on PostgreSQL, with the database rules of hotline 0003 and operators 0003 in place."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent
SQLITE_TRIGGERS = {"hotline_caseevent_case_exists", "hotline_case_kept", "hotline_case_kept_id"}
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS | {
    "hotline_caseevent_immutable", "hotline_case_count_insert", "hotline_case_count_delete",
    "hotline_case_count_update", "hotline_case_count_truncate", "operators_staffevent_immutable",
    "hotline_response_rollup_insert", "hotline_response_rollup_update", "hotline_response_rollup_truncate",
}


def test_each_apps_history_is_one_line_without_merges():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app in ("hotline", "operators"):
        names = sorted(name for label, name in loader.disk_migrations if label == app)
        assert names == [f"{n:04d}_{name.split('_', 1)[1]}" for n, name in enumerate(names, start=1)], names
        for name in names[1:]:
            own = [dep for dep in loader.disk_migrations[app, name].dependencies if dep[0] == app]
            assert own == [(app, names[names.index(name) - 1])], (name, own)
        assert len(loader.graph.leaf_nodes(app)) == 1


def _manage(database_url: str, *args: str) -> str:
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "hotline.settings.local", "DATABASE_URL": database_url,
        "DEBUG": "false", "REDIS_URL": "",
    }
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_sqlite_migrates_from_empty_and_back(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    url = f"sqlite:///{path}"

    def triggers() -> set[str]:
        with sqlite3.connect(path) as db:
            return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}

    _manage(url, "migrate", "--noinput")
    assert "[ ]" not in _manage(url, "showmigrations", "hotline", "operators")
    assert triggers() == SQLITE_TRIGGERS
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM hotline_equipmenttype").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM auth_group").fetchone()[0] == 2
    _manage(url, "migrate", "hotline", "zero", "--noinput")
    assert triggers() == set()
    _manage(url, "migrate", "--noinput")  # and forward again: the reverse left nothing behind
    assert triggers() == SQLITE_TRIGGERS


@pytest.mark.postgres
def test_postgresql_migrates_from_empty_and_back():
    params = connection.settings_dict
    name = f"hotline_migrate_{uuid.uuid4().hex[:8]}"
    server = {"host": params["HOST"] or "127.0.0.1", "port": params["PORT"] or 5432, "user": params["USER"]}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{server['user']}@{server['host']}:{server['port']}/{name}"
    try:
        def triggers() -> set[str]:
            with psycopg.connect(**server, dbname=name) as db:
                rows = db.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").fetchall()
                return {row[0] for row in rows}

        _manage(url, "migrate", "--noinput")
        assert triggers() == POSTGRESQL_TRIGGERS
        with psycopg.connect(**server, dbname=name) as db:
            options = db.execute("SELECT reloptions FROM pg_class WHERE relname = 'hotline_case'").fetchone()[0]
            assert options == ["fillfactor=75"]
            assert db.execute("SELECT count(*) FROM hotline_equipmenttype").fetchone()[0] == 3
        _manage(url, "migrate", "hotline", "zero", "--noinput")
        _manage(url, "migrate", "operators", "zero", "--noinput")
        assert triggers() == set()
        _manage(url, "migrate", "--noinput")
        assert triggers() == POSTGRESQL_TRIGGERS
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
