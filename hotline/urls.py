from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .telegram import views as telegram_views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Intake (issue 3): exempt from login, authenticated by their own secrets.
    path("telegram/webhook/", telegram_views.webhook, name="telegram-webhook"),
    path("api/", include("hotline.api.urls")),
]
