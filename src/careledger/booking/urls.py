"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.booking import views

app_name = "booking"
urlpatterns = [
    path("<uuid:client_id>/bookings/", views.client_bookings, name="client"),
]
