"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.advice import views

app_name = "advice"
urlpatterns = [
    path("<uuid:client_id>/advice/", views.sheet, name="sheet"),
    path("<uuid:client_id>/advice/issued/", views.issued, name="issued"),
]
