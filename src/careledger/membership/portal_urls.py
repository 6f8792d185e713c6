from django.urls import path

from careledger.membership import views

app_name = "membership"
urlpatterns = [
    path("card/", views.my_card, name="card"),
]
