"""The Celery app. Broker and schedule come from Django settings (CELERY_* names)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings.local")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_embedded_broker_folder(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport expects its folder to exist."""
    folder = sender.conf.broker_transport_options.get("data_folder_in")
    if sender.conf.broker_url == "filesystem://" and folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
