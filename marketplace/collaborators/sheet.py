"""The split sheet as a document: the PDF producers sign in the industry, one per version.

Every contributor with their role, profit share and publishing (writer's) share, their PRO and
IPI numbers when given, whether and when they consented, and the version's number and SHA-256,
so a printed sheet can be checked against the version it claims to be. It is printed with the
contracts' fonts and shaping: names in any script, and emoji, print as typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from marketplace.common.text import one_line
from marketplace.licensing.contracts import document_pdf, save_document_pdf

NOT_GIVEN = "none"
# The consent of a credit named by its invitation, as its state now says.
INVITATION_CONSENT = {
    "accepted": "Accepted on {decided}",
    "pending": "Pending: invited on {created}, not accepted yet",
    "declined": "Declined on {decided}: name only, paid to the owner",
    "expired": "Invitation expired on {decided}: name only, paid to the owner",
    "cancelled": "Invitation withdrawn on {decided}: name only, paid to the owner",
}
NAME_ONLY = "Name only: paid to the owner, who answers for it"
VERSION_STATE = {
    "in_force": "in force since {in_force}: sales follow this version",
    "proposed": "proposed on {created}, waiting for acceptances: sales follow the version in force",
    "superseded": "in force from {in_force} until {ended}, when a later version replaced it",
    "withdrawn": "proposed on {created}, withdrawn on {ended} before it came into force",
}
COLUMNS = ("Name", "Role", "Profit share", "Publishing share", "PRO", "IPI", "Consent")
COLUMN_WIDTHS = (34, 25, 17, 20, 17, 21, 36)  # millimetres, the A4 text width


def when(value: dt.datetime | None) -> str:
    if value is None:
        return "(not yet)"
    return value.astimezone(dt.UTC).strftime("%B %d, %Y at %H:%M UTC")


def percent(bps: int | None) -> str:
    return NOT_GIVEN if bps is None else f"{bps / 100:g}%"


def role_words(role: str) -> str:
    return role.replace("co_", "co-").replace("_", " ").capitalize()


@dataclasses.dataclass(frozen=True)
class SheetParty:
    """Who must accept (or accepted) the version: a name, and when (None while awaited)."""

    name: str
    accepted_at: dt.datetime | None
    user_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Sheet:
    """What one version's split sheet prints, read from the database by the caller."""

    beat_title: str
    beat_details: str
    owner: str
    number: int
    status: str
    content_hash: str
    created_at: dt.datetime
    in_force_at: dt.datetime | None
    ended_at: dt.datetime | None
    entries: Sequence[Mapping[str, Any]]
    invitations: Mapping[str, Any]  # id -> the invitation (status, created_at, decided_at)
    acceptances: Sequence[SheetParty]

    def consent_of(self, entry: Mapping[str, Any]) -> str:
        invitation = self.invitations.get(entry.get("invitation_id") or "")
        if invitation is not None:
            return INVITATION_CONSENT[invitation.status].format(
                created=when(invitation.created_at), decided=when(invitation.decided_at))
        if entry.get("user_id"):
            return "The owner's own credit"
        return NAME_ONLY

    def rows(self) -> list[tuple[str, ...]]:
        return [(one_line(entry["name"]), role_words(entry["role"]), percent(entry.get("profit_share_bps")),
                 percent(entry.get("publishing_share_bps")), one_line(entry.get("pro") or "") or NOT_GIVEN,
                 (entry.get("ipi") or "").strip() or NOT_GIVEN, self.consent_of(entry))
                for entry in self.entries]

    def totals(self) -> tuple[str, str]:
        def total(field: str) -> str:
            given = [entry[field] for entry in self.entries if entry.get(field) is not None]
            return percent(sum(given)) if given else NOT_GIVEN
        return total("profit_share_bps"), total("publishing_share_bps")

    def state(self) -> str:
        return VERSION_STATE[self.status].format(created=when(self.created_at),
                                                 in_force=when(self.in_force_at), ended=when(self.ended_at))

    def acceptance_lines(self) -> list[str]:
        """Each acceptance with its time, an awaited one as pending; then each invitee of the
        version who has not answered, so no consent is left as a blank line."""
        # Each line starts with a word, not the name: a name in a right-to-left script would
        # otherwise turn the whole line right to left.
        lines = [f"Accepted on {when(party.accepted_at)} by {one_line(party.name)}."
                 if party.accepted_at is not None else
                 f"Pending: {one_line(party.name)} has not accepted this version yet."
                 for party in self.acceptances]
        asked = {party.user_id for party in self.acceptances}
        for entry in self.entries:
            invitation = self.invitations.get(entry.get("invitation_id") or "")
            accepted = invitation is not None and invitation.status == "accepted"
            if accepted and invitation.accepted_by_id not in asked:
                # Their credit was accepted with the invitation; this version left their shares alone.
                lines.append(f"Accepted on {when(invitation.decided_at)} by {one_line(entry['name'])}: the "
                             "invitation to this credit (this version keeps their shares).")
            if invitation is not None and invitation.status == "pending":
                lines.append(f"Pending: {one_line(entry['name'])}, invited on {when(invitation.created_at)}, "
                             "has not answered the invitation yet.")
        return lines

    def as_of(self) -> dt.datetime:
        """The time of the latest fact the sheet states: the same facts print the same sheet."""
        invitations = [self.invitations[entry["invitation_id"]] for entry in self.entries
                       if entry.get("invitation_id") in self.invitations]
        times = [self.created_at, self.in_force_at, self.ended_at,
                 *(party.accepted_at for party in self.acceptances),
                 *(invitation.created_at for invitation in invitations),
                 *(invitation.decided_at for invitation in invitations)]
        return max(time for time in times if time is not None)

    def text(self) -> str:
        """Everything printed, for choosing the fonts before anything is drawn."""
        parts = [self.beat_title, self.beat_details, self.owner, self.state(), *self.acceptance_lines()]
        parts += [cell for row in self.rows() for cell in row]
        return "\n".join(parts)

    def fingerprint(self) -> str:
        """SHA-256 of all the sheet prints: a stored PDF with this name is this sheet."""
        printed = "\n".join([str(self.number), self.content_hash, when(self.as_of()), self.text()])
        return hashlib.sha256(printed.encode("utf-8")).hexdigest()


def render_split_sheet_pdf(sheet: Sheet, out: Path) -> None:
    title = f"Split sheet of {one_line(sheet.beat_title)}, version {sheet.number}"
    pdf = document_pdf(sheet.text() + "\n" + title, title)
    family = pdf.main_family
    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 9, "SPLIT SHEET", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    _facts(pdf, family, [
        ("Beat", f'"{one_line(sheet.beat_title)}" ({sheet.beat_details})'),
        ("Owner", one_line(sheet.owner)),
        ("Version", f"{sheet.number}, {sheet.state()}"),
        ("SHA-256", sheet.content_hash),
        ("As of", when(sheet.as_of())),
    ])
    pdf.set_font(family, "", 8.5)
    pdf.multi_cell(0, 4.5, "The SHA-256 is that of the version's canonical JSON (its beat, number and "
                           "entries, keys sorted, no spaces, UTF-8): the same version always has the same "
                           "hash, and any change of a name or a share makes another.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _heading(pdf, family, "CONTRIBUTORS")
    _table(pdf, family, sheet)
    pdf.ln(3)
    _heading(pdf, family, "ACCEPTANCES")
    pdf.set_font(family, "", 10)
    for line in sheet.acceptance_lines():
        pdf.set_x(pdf.l_margin + 4)
        pdf.cell(4, 5.5, "–")
        pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    pdf.set_font(family, "", 8.5)
    pdf.multi_cell(0, 4.5, "A name-only credit names no account: its profit share is paid to the owner, who "
                           "answers for it to that person. Each collaborator consents on the platform, by "
                           "accepting their invitation or a change of their share; this sheet records it and "
                           "needs no handwritten signature.", new_x="LMARGIN", new_y="NEXT")
    save_document_pdf(pdf, out)


def _heading(pdf: FPDF, family: str, text: str) -> None:
    pdf.set_font(family, "B", 11)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _facts(pdf: FPDF, family: str, facts: list[tuple[str, str]]) -> None:
    for label, value in facts:
        pdf.set_font(family, "B", 10)
        pdf.cell(22, 5.5, f"{label}:")
        pdf.set_font(family, "", 10)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT", align="L")


def _table(pdf: FPDF, family: str, sheet: Sheet) -> None:
    pdf.set_font(family, "", 8.5)
    profit, publishing = sheet.totals()
    with pdf.table(col_widths=COLUMN_WIDTHS, text_align="LEFT", line_height=4.6, padding=1,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232)),
                   first_row_as_headings=True) as table:
        table.row(COLUMNS)
        for row in sheet.rows():
            table.row(row)
        table.row(("Total", "", profit, publishing, "", "", ""))


def sheet_of(beat: Any, version: Any, invitations: Mapping[str, Any]) -> Sheet:
    """The sheet of one version of `beat` (a Beat and a SplitVersion), its credits' invitations by id."""
    details = ", ".join([f"{beat.bpm} BPM"] + ([beat.musical_key] if beat.musical_key else []))
    return Sheet(beat_title=beat.title, beat_details=details, owner=beat.owner.display_name,
                 number=version.number,
                 status=version.status, content_hash=version.content_hash, created_at=version.created_at,
                 in_force_at=version.in_force_at, ended_at=version.ended_at, entries=version.entries,
                 invitations=invitations,
                 acceptances=[SheetParty(a.name, a.accepted_at, a.user_id) for a in version.acceptances])
