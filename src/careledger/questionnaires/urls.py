"""Client-scoped pages (mounted under /clients/): every view asks the access policy. Response ids
travel in the query string (see views.py), so each route answers a GET with only the client id."""

from django.urls import path

from careledger.questionnaires import views

app_name = "questionnaires"
urlpatterns = [
    path("<uuid:client_id>/questionnaires/", views.client_list, name="list"),
    path("<uuid:client_id>/questionnaires/fill/", views.fill, name="fill"),
    path("<uuid:client_id>/questionnaires/link/", views.send_link, name="link"),
    path("<uuid:client_id>/questionnaires/export/", views.export, name="export"),
]
