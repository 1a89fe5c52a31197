"""The audit pages (supervisors only)."""

from django.urls import path

from hotline.privacy import views

urlpatterns = [
    path("cases/<int:case_id>/reads/", views.case_reads_page, name="case_reads"),
    path("audit/", views.audit_index, name="audit"),
    path("audit/operators/<int:user_id>/", views.operator_reads_page, name="operator_reads"),
]
