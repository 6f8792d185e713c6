"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.sharing import views

app_name = "sharing"
urlpatterns = [path("<uuid:client_id>/shares/", views.client_shares, name="client_shares")]
