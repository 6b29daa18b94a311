from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.intake, name="intake"),
    path("result/<uuid:public_id>/", views.result, name="result"),
    path("received/", views.received, name="received"),
]
