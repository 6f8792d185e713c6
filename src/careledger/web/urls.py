from django.urls import path

from careledger.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("teams/", views.teams, name="teams"),
    path("healthz", views.healthz, name="healthz"),
]
