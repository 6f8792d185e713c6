"""The front desk (mounted under /bookings/): today's list for the user's teams, check-in."""

from django.urls import path

from careledger.booking import views

app_name = "booking_desk"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
]
