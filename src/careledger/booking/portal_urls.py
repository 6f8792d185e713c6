"""Portal routes of booking (included by careledger.portal.urls): no id in any path."""

from django.urls import path

from careledger.booking import portal_views

app_name = "booking"
urlpatterns = [
    path("bookings/", portal_views.my_bookings, name="list"),
    path("bookings/new/", portal_views.new_booking, name="new"),
    path("bookings/change/", portal_views.change_booking, name="change"),
]
