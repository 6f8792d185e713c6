"""Report sync (报告同步) at /imports/: an INSTITUTION route class (no client id in the path; see
tests/access/test_every_route_refuses_outsiders.py). Sources are configured under /config/."""

from django.urls import path

from careledger.exams import views

app_name = "exams"
urlpatterns = [
    path("", views.imports, name="imports"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/retry/", views.retry, name="retry"),
    path("quarantine/<uuid:item_id>/candidates/", views.match_candidates, name="candidates"),
    path("quarantine/<uuid:item_id>/match/", views.match, name="match"),
    path("quarantine/<uuid:item_id>/discard/", views.discard, name="discard"),
    path("<uuid:job_id>/", views.job, name="job"),
    path("<uuid:job_id>/progress/", views.job_progress, name="job_progress"),
]
