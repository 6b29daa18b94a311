from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("articles/", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("evidence/", views.StudyListView.as_view(), name="evidence_list"),
    path("evidence/<slug:key>/", views.StudyDetailView.as_view(), name="study_detail"),
    path("reviewers/<int:pk>/", views.ReviewerDetailView.as_view(), name="reviewer_detail"),
]
