"""Hotline Desk: the Django project package and the case app."""

from hotline.celery import app as celery_app

__all__ = ["celery_app"]
