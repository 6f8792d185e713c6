"""Portal routes of consent (included by careledger.portal.urls): no client id."""

from django.urls import path

from careledger.consent import portal_views

app_name = "consent"
urlpatterns = [
    path("consents/", portal_views.my_consents, name="list"),
    path("consents/give/<uuid:text_id>/", portal_views.give, name="give"),
    path("consents/confirm/", portal_views.confirm, name="confirm"),
    path("consents/<uuid:consent_id>/withdraw/", portal_views.withdraw, name="withdraw"),
]
