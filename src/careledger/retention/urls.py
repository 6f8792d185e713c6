"""Client-scoped retention page (mounted under /clients/)."""

from django.urls import path

from careledger.retention import views

app_name = "retention"
urlpatterns = [path("<uuid:client_id>/retention/", views.client_page, name="client")]
