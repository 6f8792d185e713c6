from django.urls import include, path

from careledger.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_phone, name="login"),
    path("login/code/", views.login_code, name="code"),
    path("logout/", views.logout_view, name="logout"),
    path("access-log/", views.access_log, name="access_log"),
    path("access-log/<int:seq>/receipt/", views.receipt, name="receipt"),
    path("", include("careledger.questionnaires.portal_urls")),  # questionnaires/, q/<token>/
    path("", include("careledger.consent.portal_urls")),  # consents/, consents/confirm/
    path("", include("careledger.store.portal_urls")),  # orders/
    path("", include("careledger.membership.portal_urls")),  # card/
    path("", include("careledger.sharing.portal_urls")),  # shares/, shares/confirm/
    path("", include("careledger.booking.portal_urls")),  # bookings/, bookings/new/, …/change/
]
