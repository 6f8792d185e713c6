from django.urls import include, path

from careledger.api import api

urlpatterns = [
    path("api/", api.urls),
    # FHIR R4 for partners (OAuth 2) and staff (session), careledger.fhirapi.
    path("fhir/R4/", include("careledger.fhirapi.urls")),
    path("clients/", include("careledger.observations.urls")),  # <uuid>/trends/
    path("clients/", include("careledger.records.urls")),  # <uuid>/record/
    path("clients/", include("careledger.questionnaires.urls")),  # <uuid>/questionnaires/
    path("clients/", include("careledger.tagging.urls")),  # <uuid>/tags/
    path("clients/", include("careledger.assessment.urls")),  # <uuid>/risk/
    path("clients/", include("careledger.advice.urls")),  # <uuid>/advice/
    path("clients/", include("careledger.consent.urls")),  # <uuid>/consents/
    path("clients/", include("careledger.retention.urls")),  # <uuid>/retention/
    path("clients/", include("careledger.store.urls")),  # <uuid>/orders/
    path("clients/", include("careledger.membership.urls")),  # <uuid>/membership/
    path("clients/", include("careledger.reports.urls")),  # <uuid>/report/
    path("clients/", include("careledger.booking.urls")),  # <uuid>/bookings/
    path("clients/", include("careledger.followup.client_urls")),  # <uuid>/followup/
    path("clients/", include("careledger.sharing.urls")),  # <uuid>/shares/
    path("clients/", include("careledger.clients.urls")),
    path("account/", include("careledger.accounts.urls")),
    path("portal/", include("careledger.portal.urls")),
    path("audit/", include("careledger.audit.urls")),
    path("exports/", include("careledger.exports.urls")),  # institution-level
    path("imports/", include("careledger.exams.urls")),
    path("bookings/", include("careledger.booking.desk_urls")),  # desk/
    path("followup/", include("careledger.followup.urls")),  # the work queue, tasks
    path("config/", include("careledger.observations.config_urls")),
    path("config/", include("careledger.questionnaires.config_urls")),  # questionnaires/
    path("config/", include("careledger.tagging.config_urls")),  # tag-rules/
    path("config/", include("careledger.assessment.config_urls")),  # risk-models/
    path("config/", include("careledger.advice.config_urls")),  # advice/
    path("config/", include("careledger.consent.config_urls")),  # consents/
    path("config/", include("careledger.retention.config_urls")),  # retention/
    path("config/", include("careledger.membership.config_urls")),  # membership/
    path("config/", include("careledger.sharing.config_urls")),  # partners/
    path("config/", include("careledger.booking.config_urls")),  # packages/
    path("config/", include("careledger.followup.config_urls")),  # followup-plans/
    path("", include("careledger.web.urls")),
]
