"""JSON logs that carry ids, never personal data (invariant 6).

Each line carries the request id and the acting user's id from the request context; nothing in
the project logs names, phone numbers, ID numbers or clinical values. A filter also drops the
query strings Django would otherwise log for a failed request, since search terms live there.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

from careledger.request_context import current


def add_request_context(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    ctx = current()
    if ctx is not None:
        event.setdefault("request_id", ctx.request_id)
        if ctx.actor_id:
            event.setdefault("actor_id", ctx.actor_id)
    return event


class DropRequestDetails(logging.Filter):
    """Django's request loggers put the full path (with the query string) in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.request") or record.name.startswith("django.server"):
            record.msg = "request failed" if record.levelno >= logging.WARNING else "request"
            record.args = ()
        return True


def configure(settings_logging: dict[str, Any]) -> None:
    level = settings_logging.get("level", "INFO")
    pre_chain = [
        structlog.stdlib.add_log_level,
        add_request_context,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"drop_request_details": {"()": DropRequestDetails}},
            "formatters": {
                "json": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.JSONRenderer(ensure_ascii=False),
                    ],
                    "foreign_pre_chain": pre_chain,
                }
            },
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "filters": ["drop_request_details"],
                }
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {"django.db.backends": {"level": "WARNING"}},
        }
    )
    structlog.configure(
        processors=[*pre_chain, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
