"""Portal store pages (included by careledger.portal.urls under /portal/)."""

from django.urls import path

from careledger.store import portal_views

app_name = "store"
urlpatterns = [
    path("orders/", portal_views.my_orders, name="orders"),
]
