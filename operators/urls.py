from django.urls import path

from . import views

urlpatterns = [
    path("shift/", views.shift, name="shift"),
    path("preferences/", views.preferences, name="preferences"),
    path("team/", views.team_page, name="team"),
    path("team/<int:user_id>/shift/", views.operator_shift, name="operator_shift"),
    path("team/<int:user_id>/release/", views.operator_release, name="operator_release"),
]
