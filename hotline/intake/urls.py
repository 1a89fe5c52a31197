"""Intake endpoints: exempt from login, each authenticated by its own secret."""

from django.urls import path

from hotline.intake.api import RequestCreateView
from hotline.intake.telegram import views as telegram

urlpatterns = [
    path("telegram/webhook/", telegram.webhook, name="telegram-webhook"),
    path("api/v1/requests/", RequestCreateView.as_view(), name="api-request-create"),
]
