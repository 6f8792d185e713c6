"""The sharing fixtures (partners, consent texts, grants) serve the FHIR API tests too."""

from tests.sharing.conftest import partnered, share_text, shared  # noqa: F401
