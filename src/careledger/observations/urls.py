"""Pages under /clients/<id>/ for results; included before the clients app's own routes."""

from django.urls import path

from careledger.observations import views

app_name = "observations"
urlpatterns = [
    path("<uuid:client_id>/trends/", views.client_trends, name="trends"),
]
