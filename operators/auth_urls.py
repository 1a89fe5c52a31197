"""Sign-in URLs, mounted at the site root (hotline/urls.py)."""

from django.urls import path

from . import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("login/verify/", auth_views.otp_verify, name="otp_verify"),
    path("login/enrol/", auth_views.otp_enrol, name="otp_enrol"),
    path("logout/", auth_views.logout_view, name="logout"),
]
