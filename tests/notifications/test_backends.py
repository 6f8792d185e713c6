"""Console and file backends. Pure: no database."""

from __future__ import annotations

import stat

from careledger.notifications.backends import ConsoleBackend, FileBackend, read_outbox

from .factories import PHONE
from .factories import outbound_message as message


class RecordingLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict]] = []

    def info(self, event: str, **kw) -> None:  # type: ignore[no-untyped-def]
        self.lines.append(("info", event, kw))

    def warning(self, event: str, **kw) -> None:  # type: ignore[no-untyped-def]
        self.lines.append(("warning", event, kw))


def test_console_logs_ids_only_never_the_number_or_the_text() -> None:
    logger = RecordingLogger()
    receipt = ConsoleBackend(logger, demo=False).deliver(message())
    assert receipt.status == "logged" and receipt.backend == "console"
    [(level, event, fields)] = logger.lines
    assert (level, event) == ("info", "notify.console")
    assert fields["message_id"] == "m1" and fields["template"] == "portal_login_code"
    flat = repr(fields)
    assert PHONE not in flat and "042917" not in flat and "验证码" not in flat


def test_console_shows_the_code_to_the_developer_in_demo_mode_only() -> None:
    logger = RecordingLogger()
    ConsoleBackend(logger, demo=True).deliver(message())
    [(level, _event, fields)] = logger.lines
    assert level == "warning"  # visible at the worker's default log level
    assert fields["demo_only"] == {"code": "042917"}
    assert PHONE not in repr(fields)


def test_file_backend_keeps_the_whole_message_in_a_private_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = FileBackend(tmp_path / "outbox")
    backend.deliver(message())
    backend.deliver(message(id="m2"))
    path = backend.path_for("sms")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first, second = read_outbox(path)
    assert first["to"] == PHONE and first["params"] == {"code": "042917"}
    assert first["text"].startswith("【康链健康】")
    assert second["id"] == "m2"
