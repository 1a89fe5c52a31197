"""The WSGI entry point (gunicorn, runserver): every request body is read in bounded time first
(hotline/intake/bodies.py)."""

import os

from django.core.wsgi import get_wsgi_application

from hotline.intake.bodies import BoundedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings.local")
application = BoundedBodies(get_wsgi_application())
