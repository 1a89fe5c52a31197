from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from . import dashboard_views, views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/export.csv", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("api/v1/metrics/", dashboard_views.MetricsView.as_view(), name="api-metrics"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
