"""The project's URLs and /bench/constant/: 30 KB of fixed HTML through the same middleware."""

from django.http import HttpResponse
from django.urls import path

from clinic.urls import urlpatterns as project_urlpatterns

CONSTANT_PAGE = (
    "<!doctype html><html lang='en'><head><title>constant</title></head><body>"
    + "<p>A constant paragraph of about one hundred bytes, the same on every request.</p>\n" * 360
    + "</body></html>"
)


def constant(request):
    return HttpResponse(CONSTANT_PAGE)


urlpatterns = [path("bench/constant/", constant), *project_urlpatterns]
