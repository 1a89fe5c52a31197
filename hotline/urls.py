"""Every page and endpoint, one include per room."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

urlpatterns = [
    # First: Telegram's webhook is the busiest URL (every update of a surge); resolving it after
    # the desk's patterns tried some forty of them first.
    path("", include("hotline.intake.urls")),
    path("", include("hotline.desk.urls")),
    path("", include("hotline.privacy.urls")),
    path("", include("hotline.dashboard.urls")),
    path("api/", include("hotline.api.urls")),
    path("operators/", include("operators.urls")),
    # Sign-in with the second factor (operators/auth_views.py); the admin signs in the same way.
    path("", include("operators.auth_urls")),
    # The login page's language switch (sets the language cookie; signing in keeps the choice).
    path("language/", login_not_required(set_language), name="set_language"),
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
]
