from django.urls import path

from careledger.membership import views

app_name = "membership_config"
urlpatterns = [
    path("membership/", views.config_levels, name="levels"),
]
