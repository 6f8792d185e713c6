"""Health-record routes, included under /clients/ (before the clients app's own)."""

from django.urls import path

from careledger.records import views
from careledger.records.sections import SECTIONS

app_name = "records"
urlpatterns = [
    path("<uuid:client_id>/record/", views.record, name="record"),
    path("<uuid:client_id>/record/history/", views.history, name="history"),
    # One static route per section (reverse with section=<key>): no free path segment to guess.
    *(
        path(
            f"<uuid:client_id>/record/{s.slug}/",
            views.entry_form,
            {"section": s.key},
            name="entry",
        )
        for s in SECTIONS
    ),
]
