"""Swagger UI served from vendored static files (no CDN; the init script is a static file, so
a strict Content-Security-Policy holds)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from billow.api.exceptions import error_body


class SwaggerView(TemplateView):
    template_name = "api/swagger.html"


@csrf_exempt  # it changes nothing; a CSRF page would break the error shape
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Unknown ``/api/`` paths (and ids that are not numbers) answer in the API's error shape."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)
