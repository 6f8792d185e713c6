"""What each import problem is called and what to do about it (the reason codes of
careledger.exams.parsers.types.Reason, plus "internal" for a job that stopped), for the pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careledger.exams import storage
from careledger.exams.parsers.types import Reason

# Every reason a file, report or result can be refused or quarantined for: a short label and
# one line saying what it means and what to do. Codes come from the parsers and the pipeline
# (careledger.exams.parsers.types.Reason); "internal" from a job that stopped.
REASONS: dict[str, tuple[str, str]] = {
    Reason.UNREADABLE: (
        gettext_lazy("Unreadable file"),
        gettext_lazy("The file is not of the chosen format, or it is damaged."),
    ),
    Reason.ENCODING: (
        gettext_lazy("Unknown character encoding"),
        gettext_lazy("The text is neither UTF-8, UTF-16 nor GB18030 (GBK)."),
    ),
    Reason.TOO_LARGE: (
        gettext_lazy("File too large"),
        gettext_lazy("Split the export into smaller files, or ask for a higher limit."),
    ),
    Reason.TRUNCATED: (
        gettext_lazy("Truncated"),
        gettext_lazy("The file ends in the middle of this report: export it again."),
    ),
    Reason.NO_PATIENT_ID: (
        gettext_lazy("No identifier"),
        gettext_lazy("The report gives neither an ID number nor a card number."),
    ),
    Reason.BAD_PATIENT_ID: (
        gettext_lazy("Invalid ID number"),
        gettext_lazy("The resident ID number fails its check digit."),
    ),
    Reason.NO_DATE: (
        gettext_lazy("No exam date"),
        gettext_lazy("The report does not say when the exam took place."),
    ),
    Reason.BAD_DATE: (
        gettext_lazy("Unreadable date"),
        gettext_lazy("The exam date is not a date that can be read."),
    ),
    Reason.FUTURE_DATE: (
        gettext_lazy("Date in the future"),
        gettext_lazy("The exam date is later than today: check the centre's clock or export."),
    ),
    Reason.INVALID_RESOURCE: (
        gettext_lazy("Invalid FHIR resource"),
        gettext_lazy("The resource does not pass FHIR R4 validation."),
    ),
    Reason.UNSUPPORTED: (
        gettext_lazy("Not a result report"),
        gettext_lazy("This part of the file carries no results (e.g. an ADT message)."),
    ),
    Reason.MALFORMED: (
        gettext_lazy("Malformed line"),
        gettext_lazy("A line, segment or row that does not follow the format."),
    ),
    Reason.NO_CODE: (
        gettext_lazy("No item code"),
        gettext_lazy("The result names no item code or item name."),
    ),
    Reason.NO_VALUE: (
        gettext_lazy("No value"),
        gettext_lazy("The result has no value."),
    ),
    Reason.BAD_VALUE: (
        gettext_lazy("Unreadable value"),
        gettext_lazy(
            "Neither a number, a comparison such as <0.1, nor a known qualitative result."
        ),
    ),
    Reason.CANCELLED: (
        gettext_lazy("Cancelled result"),
        gettext_lazy("The centre marked this result cancelled, deleted or entered in error."),
    ),
    Reason.UNKNOWN_CODE: (
        gettext_lazy("Unknown item code"),
        gettext_lazy("No catalogue entry or code mapping: map the code, then retry."),
    ),
    Reason.UNIT_NOT_CONVERTIBLE: (
        gettext_lazy("Unit not convertible"),
        gettext_lazy("The unit cannot be converted to the indicator's standard unit."),
    ),
    Reason.IMPLAUSIBLE_VALUE: (
        gettext_lazy("Implausible value"),
        gettext_lazy("Outside what a living person can have: a typing or unit slip?"),
    ),
    Reason.UNMATCHED_CLIENT: (
        gettext_lazy("No matching client"),
        gettext_lazy("No client has this ID number or card number: match it by hand."),
    ),
    Reason.AMBIGUOUS_CLIENT: (
        gettext_lazy("Several matching clients"),
        gettext_lazy("The identifiers point to more than one client: match it by hand."),
    ),
    Reason.CONFLICT: (
        gettext_lazy("Conflicting value"),
        gettext_lazy(
            "Already imported with another value, and the new one is not marked as a correction."
        ),
    ),
    "internal": (
        gettext_lazy("Internal error"),
        gettext_lazy("The job stopped; what landed before is kept and importing again is safe."),
    ),
}
MATCHABLE = {Reason.UNMATCHED_CLIENT, Reason.AMBIGUOUS_CLIENT}


@dataclass(frozen=True)
class ReasonView:
    code: str
    label: str
    explanation: str
    count: int = 0


def reason_view(code: str, count: int = 0) -> ReasonView:
    label, explanation = REASONS.get(code, (code, ""))
    return ReasonView(code, str(label), str(explanation), count)


def reason_choices() -> list[tuple[str, str]]:
    return [(str(code), str(label)) for code, (label, _e) in REASONS.items() if code != "internal"]


@dataclass(frozen=True)
class Refusal:
    reason: ReasonView
    detail: str


def too_large(size: int) -> Refusal:
    return Refusal(
        reason_view(Reason.TOO_LARGE),
        _("The file is %(size)s MB; the limit is %(limit)s MB.")
        % {"size": f"{size / 1024 / 1024:.1f}", "limit": storage.max_bytes() // (1024 * 1024)},
    )
