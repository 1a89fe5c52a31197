"""The supervisors' dashboard: page, CSV export and the same figures as JSON."""

from django.urls import path

from hotline.dashboard import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_csv, name="dashboard-csv"),
    path("api/v1/metrics/", views.MetricsView.as_view(), name="api-metrics"),
]
