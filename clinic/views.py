"""Site-wide views: health check, robots.txt and the error pages."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from articles.models import Article


def home(request):
    """The clinic's front page: who it is, its latest articles, the way to the intake form."""
    latest = Article.objects.published().with_live_content()[:5]
    return render(request, "clinic/home.html", {"latest": latest})


@never_cache
@require_GET
def healthz(request):
    """Report whether the app can reach its database (for load balancers and uptime checks)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("django.contrib.sitemaps.views.sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def _in_admin(request):
    return request.path.startswith(reverse("admin:index"))


def page_not_found(request, exception):
    if _in_admin(request) and request.user.is_active and request.user.is_staff:
        return render(
            request,
            "admin/error.html",
            {
                "title": "Page not found",
                "explanation": "There is nothing at this address. The item may have been "
                "deleted, or the link may be mistyped or out of date.",
                "hints": ["Use the search box on the list page to find it by name."],
            },
            status=404,
        )
    return render(request, "404.html", status=404)


def permission_denied(request, exception):
    if _in_admin(request) and request.user.is_active and request.user.is_staff:
        return render(
            request,
            "admin/error.html",
            {
                "title": "You cannot open this page",
                "explanation": "Your staff role does not include this page or action. "
                "Nothing was changed.",
                "hints": [
                    "If your work needs it, ask a clinic administrator to add you to the "
                    "right group (Authors, Medical reviewers or Clinical staff).",
                ],
            },
            status=403,
        )
    return render(request, "403.html", status=403)


def server_error(request):
    # No context processors beyond the request: the database may be what failed.
    return render(request, "500.html", status=500)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """/favicon.ico for browsers and tools that ask for it by that name (pages link the SVG)."""
    return redirect(static("favicon.ico"))
