from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from . import dashboard_views, views
from .telegram import views as telegram_views
from .views import audit as audit_views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("take-next/", views.take_next, name="take_next"),
    path("calls/", views.call_log, name="call_log"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/take/", views.case_take, name="case_take"),
    path("cases/<int:case_id>/unassign/", views.case_unassign, name="case_unassign"),
    path("cases/<int:case_id>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:case_id>/reply/", views.case_reply, name="case_reply"),
    path("cases/<int:case_id>/call/", views.case_call, name="case_call"),
    path("cases/<int:case_id>/note/", views.case_note, name="case_note"),
    path("cases/<int:case_id>/advance/", views.case_advance, name="case_advance"),
    path("cases/<int:case_id>/equipment/", views.case_declare, name="case_declare"),
    path("cases/<int:case_id>/surrender/", views.case_surrender, name="case_surrender"),
    path("cases/<int:case_id>/close/", views.case_close, name="case_close"),
    path("cases/<int:case_id>/reopen/", views.case_reopen, name="case_reopen"),
    path("cases/<int:case_id>/reward-paid/", views.case_reward_paid, name="case_reward_paid"),
    # The audit of reads (issue 7B): supervisors only.
    path("cases/<int:case_id>/reads/", audit_views.case_reads_page, name="case_reads"),
    path("audit/", audit_views.audit_index, name="audit"),
    path("audit/operators/<int:user_id>/", audit_views.operator_reads_page, name="operator_reads"),
    path("canned/", views.canned_list, name="canned_replies"),
    path("canned/new/", views.canned_save, name="canned_create"),
    path("canned/<int:canned_id>/", views.canned_save, name="canned_update"),
    path("operators/", include("operators.urls")),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/export.csv", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("api/v1/metrics/", dashboard_views.MetricsView.as_view(), name="api-metrics"),
    # Sign-in with the second factor (operators/auth_views.py); the admin signs in the same way.
    path("", include("operators.auth_urls")),
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
    # Intake (issue 3): exempt from login, authenticated by their own secrets.
    path("telegram/webhook/", telegram_views.webhook, name="telegram-webhook"),
    path("api/", include("hotline.api.urls")),
]
