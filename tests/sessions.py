"""A second PostgreSQL session on the test database, for tests of what two transactions do."""

from __future__ import annotations

import psycopg
from django.db import connection


def another_connection() -> psycopg.Connection:
    """A second session on the test database, outside Django (sees only committed data)."""
    params = connection.settings_dict
    return psycopg.connect(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432, user=params["USER"],
                           dbname=params["NAME"])
