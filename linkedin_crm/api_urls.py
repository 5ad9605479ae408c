"""/api/v1/: every app's endpoints (each app's api.py), the OpenAPI schema and its docs."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound

from campaigns import api as campaigns_api
from contacts import api as contacts_api
from linkedin_crm import api_views, webhook_api
from linkedin_crm.auth import staff_required
from messaging import api as messaging_api

app_name = "api"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([])
def not_found(request, path=""):
    """Anything else under /api/v1/ answers like the API, not with the HTML 404 page."""
    raise NotFound(f"There is no API endpoint at {request.path}.")


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from our own static files, without inline script or style (the CSP refuses
    both); the browser's session signs its requests, with the CSRF token on writes."""

    template_name = "api/docs.html"


urlpatterns = [
    *contacts_api.urlpatterns,
    *api_views.urlpatterns,
    *messaging_api.urlpatterns,
    *campaigns_api.urlpatterns,
    *webhook_api.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", staff_required(ApiDocsView.as_view(url_name="api:schema")), name="docs"),
    # Any path at all, line breaks included ("." alone stops at one).
    re_path(r"^(?P<path>(?s:.*))$", not_found, name="not_found"),
]
