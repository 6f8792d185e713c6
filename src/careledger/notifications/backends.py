"""Delivery backends of the notification gateway: console and file. Pure: no Django.

A backend gets a fully rendered `OutboundMessage` and returns a `MessageReceipt`, or raises a
`NotificationError`. Which one runs is configuration (`CARELEDGER_NOTIFY_BACKEND`); the gateway
(`careledger.notifications.gateway`) renders, delivers and ledgers, so the backends stay small and
testable without a database.

* `console` (the default) writes one JSON log line per message with ids only: never the phone
  number and never the text, because logs are not a place for personal data (invariant 6). In
  demo mode the parameters a template marks as demo-visible (the login code) are added, so a
  developer without an SMS provider can still sign in to the portal; the line is logged at
  WARNING so that it shows at the worker's default log level.
* `file` appends the whole message (recipient and text included) as a JSON line to
  `<outbox>/<channel>.jsonl`, mode 0600. It is meant for tests and demos, and it is the one place
  where a sent message is kept in full: treat the outbox directory like the database.
* `http` (in `http_backend.py`) posts to an SMS provider.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class NotificationError(Exception):
    """Delivery failed. `code` is a short machine reason, safe for logs and the ledger."""

    code = "failed"


class NotificationRejected(NotificationError):
    """The provider refused the message (HTTP 4xx): retrying will not help."""

    code = "rejected"

    def __init__(self, status: int, provider_code: str = "") -> None:
        super().__init__(f"SMS provider refused the message: HTTP {status} {provider_code}".strip())
        self.status = status
        self.provider_code = provider_code


class NotificationUnavailable(NotificationError):
    """The provider failed or could not be reached, and every retry failed too."""

    code = "unavailable"


@dataclass(frozen=True)
class OutboundMessage:
    id: str
    channel: str
    to: str
    template: str
    text: str
    params: dict[str, str]
    client_id: str
    purpose: str
    created_at: dt.datetime
    demo_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageReceipt:
    message_id: str
    channel: str
    template: str
    backend: str
    status: str  # "logged", "written", "accepted"
    attempts: int = 1
    provider_id: str = ""


class Backend(Protocol):
    name: str

    def deliver(self, message: OutboundMessage) -> MessageReceipt: ...


class ConsoleBackend:
    name = "console"

    def __init__(self, logger: Any, *, demo: bool = False) -> None:
        self.logger = logger
        self.demo = demo

    def deliver(self, message: OutboundMessage) -> MessageReceipt:
        line: dict[str, Any] = {
            "message_id": message.id,
            "channel": message.channel,
            "template": message.template,
            "client_id": message.client_id,
            "purpose": message.purpose,
        }
        if self.demo and message.demo_params:
            line["demo_only"] = dict(message.demo_params)
            self.logger.warning("notify.console", **line)
        else:
            self.logger.info("notify.console", **line)
        return MessageReceipt(message.id, message.channel, message.template, self.name, "logged")


class FileBackend:
    name = "file"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def path_for(self, channel: str) -> Path:
        return self.outbox / f"{channel}.jsonl"

    def deliver(self, message: OutboundMessage) -> MessageReceipt:
        self.outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        record = {
            "id": message.id,
            "time": message.created_at.isoformat(),
            "channel": message.channel,
            "to": message.to,
            "template": message.template,
            "params": message.params,
            "text": message.text,
            "client_id": message.client_id,
            "purpose": message.purpose,
        }
        data = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        # O_APPEND: one write per line, so concurrent workers do not interleave within a line.
        fd = os.open(self.path_for(message.channel), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return MessageReceipt(message.id, message.channel, message.template, self.name, "written")


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """The messages a file backend wrote (tests and the demo read them back)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
