from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .cases import CaseDetailView, CaseListView
from .views import RequestCreateView

urlpatterns = [
    path("v1/requests/", RequestCreateView.as_view(), name="api-request-create"),
    # Staff reads (issue 7B): session login, the pages' access policy.
    path("v1/cases/", CaseListView.as_view(), name="api-case-list"),
    path("v1/cases/<int:case_id>/", CaseDetailView.as_view(), name="api-case-detail"),
    # DRF views skip LoginRequiredMiddleware; these pages are for logged-in staff, so a
    # browser without a session goes to the login page (an API token does not count).
    path("schema/", login_required(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html")),
        name="api-docs",
    ),
]
