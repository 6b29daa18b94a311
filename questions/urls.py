from django.urls import path

from . import views

app_name = "questions"

urlpatterns = [
    path("articles/<slug:slug>/ask/", views.ask, name="ask"),
    path("articles/<slug:slug>/ask/sent/", views.sent, name="sent"),
]
