"""Institution-level export pages (mounted under /exports/): no client id in any route."""

from django.urls import path

from careledger.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.export_list, name="list"),
    path("new/", views.export_new, name="new"),
    path("projects/", views.projects, name="projects"),
    path("<uuid:request_id>/", views.export_detail, name="detail"),
    path("<uuid:request_id>/approve/", views.export_approve, name="approve"),
    path("<uuid:request_id>/reject/", views.export_reject, name="reject"),
    path("<uuid:request_id>/withdraw/", views.export_withdraw, name="withdraw"),
    path("<uuid:request_id>/download/", views.export_download, name="download"),
]
