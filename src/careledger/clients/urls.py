from django.urls import path

from careledger.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("search/", views.client_search, name="search"),
    path("enrol/", views.enrol, name="enrol"),
    path("<uuid:client_id>/", views.profile, name="profile"),
    path("<uuid:client_id>/edit/", views.edit, name="edit"),
    path("<uuid:client_id>/break-glass/", views.break_glass, name="break_glass"),
    path("<uuid:client_id>/history/<int:version>/", views.revision, name="revision"),
]
