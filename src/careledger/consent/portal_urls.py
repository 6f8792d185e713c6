"""Portal routes of consent (included by careledger.portal.urls): no id in any route (the
text and the consent come as parameters and are looked up within the signed-in client)."""

from django.urls import path

from careledger.consent import portal_views

app_name = "consent"
urlpatterns = [
    path("consents/", portal_views.my_consents, name="list"),
    path("consents/give/", portal_views.give, name="give"),  # ?text=<id>
    path("consents/confirm/", portal_views.confirm, name="confirm"),
    path("consents/withdraw/", portal_views.withdraw, name="withdraw"),  # POST consent=<id>
]
