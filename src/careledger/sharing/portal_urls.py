"""Portal pages (mounted under /portal/): the signed-in client's own shares, no client id."""

from django.urls import path

from careledger.sharing import views

app_name = "shares"
urlpatterns = [
    path("shares/", views.my_shares, name="list"),
    path("shares/confirm/", views.confirm, name="confirm"),
]
