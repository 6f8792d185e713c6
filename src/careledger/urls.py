from django.urls import include, path

from careledger.api import api

urlpatterns = [
    path("api/", api.urls),
    path("clients/", include("careledger.observations.urls")),  # <uuid>/trends/
    path("clients/", include("careledger.records.urls")),  # <uuid>/record/
    path("clients/", include("careledger.clients.urls")),
    path("account/", include("careledger.accounts.urls")),
    path("portal/", include("careledger.portal.urls")),
    path("audit/", include("careledger.audit.urls")),
    path("imports/", include("careledger.exams.urls")),
    path("config/", include("careledger.observations.config_urls")),
    path("questionnaires/", include("careledger.questionnaires.urls")),
    path("tags/", include("careledger.tagging.urls")),
    path("assessment/", include("careledger.assessment.urls")),
    path("", include("careledger.web.urls")),
]
