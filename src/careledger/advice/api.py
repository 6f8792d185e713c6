"""JSON API: `router` is client-scoped (mounted under /api/clients/{client_id}/), `config_router`
holds institution-level configuration (mounted under /api/config/)."""

from ninja import Router

router = Router(tags=["advice"])
config_router = Router(tags=["advice"])
