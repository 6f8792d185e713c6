from django.urls import path

from careledger.membership import views

app_name = "membership"
urlpatterns = [
    path("<uuid:client_id>/membership/", views.client_membership, name="client"),
]
