"""The product's URLconf plus the bare view (bench/settings.py only, never the product's urls)."""

from django.urls import include, path

from bench import bare

urlpatterns = [
    path("bench/bare-insert/", bare.bare_insert, name="bench-bare-insert"),
    path("", include("hotline.urls")),
]
