from django.urls import path

from careledger.audit import views

app_name = "audit"
urlpatterns = [
    path("events/", views.events, name="events"),
    path("events/export.csv", views.export_csv, name="export"),
    path("break-glass/", views.break_glass_queue, name="break_glass_queue"),
    path("break-glass/<uuid:grant_id>/", views.break_glass_review, name="break_glass_review"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<uuid:alert_id>/", views.handle_alert, name="handle_alert"),
]
