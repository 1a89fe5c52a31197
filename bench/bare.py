"""The baseline for bench/intake.py: a view on the same stack (gunicorn, Django, psycopg,
PostgreSQL) that does the least an intake endpoint must: parse the JSON body and insert one
row in its own transaction. Its table lives in the benchmark database only."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE = "bench_bare_insert"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE}"
    " (id bigserial PRIMARY KEY, update_id bigint NOT NULL, body jsonb NOT NULL)"
)


@csrf_exempt
@login_not_required
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    update = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (update_id, body) VALUES (%s, %s)",
            [update["update_id"], request.body.decode()],
        )
    return JsonResponse({"ok": True})
