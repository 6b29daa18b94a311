"""Root URLs."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.feeds import LatestArticlesFeed
from articles.sitemaps import sitemaps

from . import two_factor_views, views
from .page_cache import public_page

urlpatterns = [
    path("", public_page(views.home), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        public_page(sitemap),
        {"sitemaps": sitemaps},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("feed/", public_page(LatestArticlesFeed()), name="feed"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("staff/two-factor/", two_factor_views.second_factor, name="two_factor"),
    path("admin/", admin.site.urls),
    path("intake/", include("screening.urls")),
    path("search/", include("search.urls")),
    path("", include("questions.urls")),
    path("", include("articles.urls")),
]

handler403 = "clinic.views.permission_denied"
handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"
