"""The layout of docs/architecture.md, held against the code (the import layers themselves are
checked by `lint-imports`, which `make test` runs before the suite)."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline.tasks  # noqa: F401 - registers the tasks with the app
from hotline import queueing
from hotline.celery import app

ROOT = Path(__file__).resolve().parent.parent
# Django's own idiom: an AppConfig connects its signals once the registry is ready.
FUNCTION_IMPORTS_ALLOWED = {("operators/apps.py", "ready")}


def _python_files() -> list[Path]:
    return [
        path for folder in ("hotline", "operators") for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_no_module_imports_inside_a_function():
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    where = (str(path.relative_to(ROOT)), function.name)
                    if where not in FUNCTION_IMPORTS_ALLOWED:
                        found.append(f"{where[0]}:{node.lineno} in {where[1]}()")
    assert found == []


def test_the_ground_floor_holds_at_most_a_dozen_modules():
    modules = sorted(path.name for path in (ROOT / "hotline").glob("*.py"))
    assert len(modules) <= 12, modules
    assert {"models.py", "errors.py", "identity.py", "queueing.py", "tasks.py", "urls.py"} <= set(modules)


def test_every_task_name_queued_has_its_task_and_every_task_a_name():
    registered = {name for name in app.tasks if name.startswith("hotline.")}
    assert set(queueing.TASK_NAMES) == registered
    assert len(queueing.TASK_NAMES) == len(set(queueing.TASK_NAMES))


def test_the_beat_schedule_runs_only_registered_tasks_on_the_periodic_queue(settings):
    """Sweeps have a queue of their own; stored Telegram updates go where new ones are applied."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
        queue = "intake" if entry["task"] == queueing.PROCESS_UPDATES else "periodic"
        assert settings.CELERY_TASK_ROUTES[entry["task"]] == {"queue": queue}
