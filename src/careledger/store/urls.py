"""Client-scoped store pages (mounted under /clients/). Order ids travel in the query string."""

from django.urls import path

from careledger.store import views

app_name = "store"
urlpatterns = [
    path("<uuid:client_id>/orders/", views.client_orders, name="orders"),
]
