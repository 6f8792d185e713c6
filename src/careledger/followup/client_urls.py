"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.followup import views

app_name = "followup_client"
urlpatterns = [
    path("<uuid:client_id>/followup/", views.client_page, name="client"),
]
