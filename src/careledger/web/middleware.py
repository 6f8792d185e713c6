"""Request plumbing: a request id and acting user for the ledger and logs; no-store caching."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from careledger.request_context import RequestContext, bound, new_request_id, set_actor


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        ctx = RequestContext(request_id=new_request_id(), channel=channel, ip=client_ip(request))
        with bound(ctx):
            request.request_id = ctx.request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response

    def process_view(self, request: HttpRequest, *args: object) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            set_actor(str(user.id))


class NoStoreMiddleware:
    """Pages and API answers may carry client data: no browser or proxy may keep them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
