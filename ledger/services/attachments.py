"""Attachments of journal entries (issue 11): the documents behind an entry (a receipt, an invoice, a
bank statement) as files, or a reference text saying where the document is kept.

- Only a draft's attachments change (added, removed), like its lines: a posted entry is immutable
  (409 entry_not_draft). The check and the write are one transaction that also touches the entry, so
  a post racing an attach conflicts and one of them wins whole.
- Files: PDF, PNG, JPEG or CSV, at most ATTACHMENT_MAX_BYTES, not empty. The type is sniffed from the
  bytes (the client's content type is never trusted nor stored) and must agree with the file name's
  extension; a CSV must be UTF-8 text without control characters. Stored in the media storage under
  the organization (`ledger.models.attachment_path`), with size and SHA-256.
- Who: those who work the books attach and remove (core.permissions.can_work_books); those who may
  view the books read and download, through the reads in ledger.selectors
  (`journal_attachment_list_for`, `journal_attachment_get_for`: another organization's entry or
  attachment is 404).
"""

from __future__ import annotations

import hashlib
import os
import uuid

from django.core.files.base import ContentFile
from django.utils import timezone

from core import permissions
from core.errors import ErrorCode, InvalidInput, NotFound, TooLarge
from core.transactions import in_transaction
from ledger.models import AttachmentKind, EntryStatus, JournalAttachment, JournalEntry
from ledger.services.entries import _not_draft_error

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_ENTRY = 20
REFERENCE_MAX_CHARS = 500
WORK_REFUSED = "Only those who work the books change an entry's attachments."
VIEW_REFUSED = "Journal entries are for accountants, managers and admins."

# content type -> (the extensions a name may have, what the bytes start with; None: text, checked apart)
ALLOWED_TYPES = {
    "application/pdf": ((".pdf",), b"%PDF-"),
    "image/png": ((".png",), b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff"),
    "text/csv": ((".csv",), None),
}
ALLOWED_NAMES = "PDF, PNG, JPEG or CSV"


def attachment_sniff(data: bytes) -> str | None:
    """The content type the bytes are (one of ALLOWED_TYPES), or None."""
    for content_type, (_, magic) in ALLOWED_TYPES.items():
        if magic is not None and data.startswith(magic):
            return content_type
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text) or not text.strip():
        return None
    return "text/csv"


def _clean_name(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return base[-255:] or "attachment"


def _entry_for_work(entry: JournalEntry, actor) -> str:
    organization_id = permissions.acting_organization_id(actor, permissions.can_work_books, entry.organization_id,
                                                         refused=WORK_REFUSED, system_allowed=False)
    if entry.status != EntryStatus.DRAFT:
        raise _not_draft_error(entry)
    return organization_id


def _insert_on_draft(entry: JournalEntry, attachment: JournalAttachment) -> None:
    def work():
        touched = JournalEntry.objects.for_organization(entry.organization_id).filter(
            pk=entry.pk, status=EntryStatus.DRAFT).update(updated_at=timezone.now())
        if not touched:
            raise _not_draft_error(entry)
        if JournalAttachment.objects.for_organization(entry.organization_id).filter(
                entry_id=entry.pk).count() >= ATTACHMENTS_PER_ENTRY:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR,
                               f"An entry holds at most {ATTACHMENTS_PER_ENTRY} attachments.")
        attachment.pk = None
        attachment.save(force_insert=True)

    in_transaction(work)


def journal_attachment_add_file(*, actor, entry: JournalEntry, name: str, data: bytes) -> JournalAttachment:
    """Attach a file to a draft (see the module docstring for the rules)."""
    organization_id = _entry_for_work(entry, actor)
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise TooLarge(ErrorCode.PAYLOAD_TOO_LARGE,
                       f"The file is larger than {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.",
                       {"max_bytes": ATTACHMENT_MAX_BYTES})
    if not data:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The file is empty.")
    name = _clean_name(name)
    content_type = attachment_sniff(data)
    extension = os.path.splitext(name)[1].lower()
    if content_type is None or extension not in ALLOWED_TYPES[content_type][0]:
        raise InvalidInput(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                           f"Attach a {ALLOWED_NAMES} file whose name ends in its type "
                           f"(this one is {'not one of them' if content_type is None else content_type}).",
                           {"allowed": sorted(ALLOWED_TYPES)})
    attachment = JournalAttachment(organization_id=organization_id, entry=entry, kind=AttachmentKind.FILE,
                                   original_name=name, content_type=content_type, size=len(data),
                                   sha256=hashlib.sha256(data).hexdigest(), uploaded_by=actor)
    stored_as = f"{uuid.uuid4().hex}{extension}"
    attachment.file.save(stored_as, ContentFile(data), save=False)  # the bytes first, then the row
    try:
        _insert_on_draft(entry, attachment)
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)  # no row: no file left behind
        raise
    return attachment


def journal_attachment_add_reference(*, actor, entry: JournalEntry, reference: str) -> JournalAttachment:
    """Attach a reference text (where the document is: "Invoice 2026-17, Drive/Finance/2026")."""
    organization_id = _entry_for_work(entry, actor)
    reference = " ".join((reference or "").split())
    if not reference:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Write the reference.", {"field": "reference"})
    if len(reference) > REFERENCE_MAX_CHARS:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"A reference has at most {REFERENCE_MAX_CHARS} characters.",
                           {"field": "reference"})
    attachment = JournalAttachment(organization_id=organization_id, entry=entry, kind=AttachmentKind.REFERENCE,
                                   reference=reference, uploaded_by=actor)
    _insert_on_draft(entry, attachment)
    return attachment


def journal_attachment_delete(*, actor, attachment: JournalAttachment) -> None:
    """Remove an attachment of a draft; its file is deleted once the removal commits (the model's
    post_delete receiver, which also serves a draft deleted with its attachments)."""
    entry = JournalEntry.objects.for_organization(attachment.organization_id).filter(pk=attachment.entry_id).first()
    if entry is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    _entry_for_work(entry, actor)

    def work():
        touched = JournalEntry.objects.for_organization(entry.organization_id).filter(
            pk=entry.pk, status=EntryStatus.DRAFT).update(updated_at=timezone.now())
        if not touched:
            raise _not_draft_error(entry)
        deleted, _ = JournalAttachment.objects.for_organization(entry.organization_id).filter(pk=attachment.pk).delete()
        if not deleted:
            raise NotFound(ErrorCode.NOT_FOUND, "Not found.")

    in_transaction(work)

