"""An operator's own pages, under /operators/ (the Team page is the desk's: hotline/desk/urls.py)."""

from django.urls import path

from . import auth_views, views

urlpatterns = [
    path("", views.operators_home, name="operators_home"),
    path("preferences/", views.preferences, name="preferences"),
    path("security/", auth_views.security_page, name="security"),
]
