"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.tagging import views

app_name = "tagging"
urlpatterns = [
    path("<uuid:client_id>/tags/", views.tags, name="tags"),
    path("<uuid:client_id>/tags/manual/", views.manual, name="manual"),
]
