from django.urls import path

from . import auth_views, views

urlpatterns = [
    path("shift/", views.shift, name="shift"),
    path("preferences/", views.preferences, name="preferences"),
    path("team/", views.team_page, name="team"),
    path("team/<int:user_id>/shift/", views.operator_shift, name="operator_shift"),
    path("team/<int:user_id>/release/", views.operator_release, name="operator_release"),
    path("team/<int:user_id>/sessions/end/", views.operator_sessions_end, name="operator_sessions_end"),
    path("team/<int:user_id>/deactivate/", views.operator_deactivate_view, name="operator_deactivate"),
    path("team/<int:user_id>/second-factor/reset/", views.operator_second_factor_reset, name="operator_2fa_reset"),
    path("security/", auth_views.security_page, name="security"),
]
