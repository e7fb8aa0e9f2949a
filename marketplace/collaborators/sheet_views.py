"""The split sheet of each version as a PDF, for the beat's owner and its collaborators."""

from __future__ import annotations

import tempfile
from pathlib import Path

from marketplace.accounts.auth import auth_required, current_user
from marketplace.api import Blueprint, document_errors
from marketplace.collaborators import services, versions
from marketplace.collaborators.sheet import Sheet, render_split_sheet_pdf, sheet_of
from marketplace.common.errors import Conflict
from marketplace.licensing.contracts import ContractIncomplete
from marketplace.storage.service import save_atomically, storage
from marketplace.storage.views import file_response

blp = Blueprint("split_sheets", __name__, description="Split sheets as documents")


@blp.get("/beats/<beat_id>/split-sheet/versions/<int:number>.pdf")
@auth_required()
@blp.response(200, description="The split sheet of this version (application/pdf): every contributor with "
                                "role, profit and publishing shares, PRO and IPI, each acceptance with its "
                                "time, and the version's number and SHA-256")
@document_errors(404, 409)
def split_sheet_pdf(beat_id, number):
    """Download a version's split sheet, the current one or any earlier, as its consents stand
    now (an acceptance given since shows). For the beat's owner and its collaborators only."""
    beat = services.beat_for_split_sheet(beat_id, current_user())
    version = versions.get_version(beat.id, number)
    sheet = sheet_of(beat, version, versions.invitations_named(version.entries))
    # Rendering takes a second or more (fonts for every script): a sheet whose facts have not
    # changed is served as stored, under the fingerprint of all it prints.
    key = f"split-sheets/{version.id}/{sheet.fingerprint()}.pdf"
    if not storage().exists(key):
        _render_and_store(sheet, key)
    return file_response(key, "application/pdf", cache_seconds=0, private=True)


def _render_and_store(sheet: Sheet, key: str) -> None:
    with tempfile.TemporaryDirectory(prefix="split-sheet-") as folder:
        out = Path(folder) / "split-sheet.pdf"
        try:
            render_split_sheet_pdf(sheet, out)
        except ContractIncomplete as unprintable:
            raise Conflict(f"This split sheet cannot be printed ({unprintable}): change the name or number "
                           "that holds these characters.", code="split_sheet_unprintable") from None
        save_atomically(out, key, "application/pdf")
