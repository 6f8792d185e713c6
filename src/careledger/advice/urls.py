"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path  # noqa: F401

app_name = "advice"
urlpatterns: list = []
