"""Portal routes of the questionnaires (included by careledger.portal.urls): no client id."""

from django.urls import path

from careledger.questionnaires import portal_views

app_name = "questionnaires"
urlpatterns = [
    path("questionnaires/", portal_views.my_list, name="list"),
    path("questionnaires/fill/", portal_views.my_fill, name="fill"),
    path("q/<str:token>/", portal_views.by_link, name="link"),
]
