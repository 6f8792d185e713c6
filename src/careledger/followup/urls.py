"""The work queue and the perform page (mounted under /followup/): scoped to the asker's teams;
every view asks the access policy."""

from django.urls import path

from careledger.followup import views

app_name = "followup"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tasks/<uuid:task_id>/", views.perform, name="perform"),
]
