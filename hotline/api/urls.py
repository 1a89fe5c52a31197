"""The case API (read side) for staff, its OpenAPI schema and the docs, under /api/."""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hotline.api.cases import CaseDetailView, CaseListView

urlpatterns = [
    # Staff reads: session login, the pages' access policy.
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
