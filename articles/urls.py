from django.urls import path

from clinic.page_cache import public_page

from . import views

app_name = "articles"

urlpatterns = [
    path("articles/", public_page(views.ArticleListView.as_view()), name="list"),
    path("articles/<slug:slug>/", public_page(views.ArticleDetailView.as_view()), name="detail"),
    path("evidence/", public_page(views.StudyListView.as_view()), name="evidence_list"),
    path("evidence/<slug:key>/", public_page(views.StudyDetailView.as_view()), name="study_detail"),
    path(
        "reviewers/<int:pk>/",
        public_page(views.ReviewerDetailView.as_view()),
        name="reviewer_detail",
    ),
]
