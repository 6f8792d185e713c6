from django.urls import path

from careledger.fhirapi.api import fhir_api
from careledger.sharing.oauth import PartnerTokenView

app_name = "fhirapi"

urlpatterns = [
    path("auth/token", PartnerTokenView.as_view(), name="token"),
    path("", fhir_api.urls),
]
