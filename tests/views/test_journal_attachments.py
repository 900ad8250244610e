"""Journal entry attachments (issue 11): files (PDF, PNG, JPEG, CSV; the type sniffed from the bytes
and agreeing with the name; a size limit) or reference texts, on drafts only (a posted entry's are
immutable), stored in the media storage under the organization, downloaded by those who may view that
organization's books; another organization's attachment or entry is a 404. Also the admin inline."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from ledger import selectors, services
from ledger.models import JournalAttachment
from ledger.services.attachments import ATTACHMENT_MAX_BYTES, attachment_sniff
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
CSV = "date,amount\n2026-03-01,100.00\n".encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.MANAGER)


@pytest.fixture
def accountant(make_user):
    return make_user(is_accountant=True)


def draft(user):
    return services.journal_entry_create(
        created_by=user, date=dt.date(2026, 3, 1), description="Capital",
        line_items=[{"account_code": "1110", "debit_amount": Decimal("100")},
                    {"account_code": "3100", "credit_amount": Decimal("100")}])


def attach(client, entry, name, data, htmx=False):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/app/ledger/entries/{entry.pk}/attachments/",
                       {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")}, **extra)


def test_sniffing_reads_the_bytes_not_the_name():
    assert attachment_sniff(PDF) == "application/pdf" and attachment_sniff(PNG) == "image/png"
    assert attachment_sniff(JPEG) == "image/jpeg" and attachment_sniff(CSV) == "text/csv"
    assert attachment_sniff(b"MZ\x90\x00\x03\x00") is None  # an executable
    assert attachment_sniff(b"\x00\x01binary") is None and attachment_sniff(b"   ") is None


@pytest.mark.parametrize("name, data, content_type", [
    ("receipt.pdf", PDF, "application/pdf"), ("scan.PNG", PNG, "image/png"),
    ("photo.jpeg", JPEG, "image/jpeg"), ("bank.csv", CSV, "text/csv")])
def test_a_draft_takes_each_allowed_type_stored_under_the_organization(client, accountant, media, name, data,
                                                                       content_type):
    entry = draft(accountant)
    client.force_login(accountant)
    response = attach(client, entry, name, data)
    assert response.status_code == 302 and response["Location"] == f"/app/ledger/entries/{entry.pk}/"
    attachment = JournalAttachment.objects.get(entry=entry)
    assert attachment.content_type == content_type and attachment.size == len(data)
    assert attachment.original_name == name and attachment.organization_id == accountant.organization_id
    assert attachment.file.name.startswith(f"ledger/attachments/{accountant.organization_id}/{entry.pk}/")
    assert (Path(media) / attachment.file.name).read_bytes() == data
    page = client.get(f"/app/ledger/entries/{entry.pk}/").content.decode()
    assert name in page and 'id="attach-file-form"' in page
    download = client.get(f"/app/ledger/attachments/{attachment.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == content_type
    assert "attachment" in download["Content-Disposition"] and b"".join(download.streaming_content) == data


def test_wrong_type_mismatched_name_empty_or_too_large_is_a_clear_4xx_and_stores_nothing(client, accountant, media):
    entry = draft(accountant)
    client.force_login(accountant)
    for name, data, status, message in (
            ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00", 422, "Attach a PDF, PNG, JPEG or CSV file"),
            ("invoice.pdf", PNG, 422, "this one is image/png"),  # a PNG named .pdf
            ("notes.txt", CSV, 422, "Attach a PDF, PNG, JPEG or CSV file"),
            ("empty.pdf", b"", 422, "The file is empty."),
            ("big.pdf", PDF + b"0" * ATTACHMENT_MAX_BYTES, 413, "larger than 10 MB")):
        response = attach(client, entry, name, data)
        assert response.status_code == status and message in response.content.decode(), name
    htmx = attach(client, entry, "tool.exe", b"MZ\x90\x00", htmx=True)
    assert htmx.status_code == 200 and 'id="attachment-error"' in htmx.content.decode()
    assert not JournalAttachment.objects.exists()
    assert not any(path.is_file() for path in Path(media).rglob("*"))


def test_reference_text_and_removal_on_a_draft(client, accountant, media):
    entry = draft(accountant)
    client.force_login(accountant)
    response = client.post(f"/app/ledger/entries/{entry.pk}/attachments/",
                           {"reference": "Invoice 2026-17, Finance drive"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Reference: Invoice 2026-17, Finance drive" in html
    empty = client.post(f"/app/ledger/entries/{entry.pk}/attachments/", {"reference": "  "})
    assert empty.status_code == 422 and "Write the reference." in empty.content.decode()
    attach(client, entry, "receipt.pdf", PDF)
    stored = JournalAttachment.objects.get(kind="file")
    path = Path(media) / stored.file.name
    assert path.exists()
    removed = client.post(f"/app/ledger/attachments/{stored.pk}/delete/")
    assert removed.status_code == 302 and not JournalAttachment.objects.filter(pk=stored.pk).exists()
    assert not path.exists()  # the file goes with it
    assert JournalAttachment.objects.filter(entry=entry).count() == 1  # the reference stays


def test_deleting_a_draft_takes_its_attachments_and_files(client, accountant, media):
    entry = draft(accountant)
    client.force_login(accountant)
    attach(client, entry, "receipt.pdf", PDF)
    path = Path(media) / JournalAttachment.objects.get().file.name
    assert path.exists()
    assert client.post(f"/app/ledger/entries/{entry.pk}/delete/").status_code == 302
    assert not JournalAttachment.objects.exists() and not path.exists()


def test_a_posted_entry_s_attachments_are_immutable(client, manager, media):
    entry = draft(manager)
    client.force_login(manager)
    attach(client, entry, "receipt.pdf", PDF)
    attachment = JournalAttachment.objects.get()
    posted = services.journal_entry_post(entry=entry, actor=manager)
    page = client.get(f"/app/ledger/entries/{entry.pk}/").content.decode()
    assert "receipt.pdf" in page and 'id="attach-file-form"' not in page and "attachment-delete" not in page
    late = attach(client, posted, "late.pdf", PDF)
    assert late.status_code == 409 and "only drafts change" in late.content.decode()
    gone = client.post(f"/app/ledger/attachments/{attachment.pk}/delete/")
    assert gone.status_code == 409 and JournalAttachment.objects.count() == 1
    with pytest.raises(Conflict):
        services.journal_attachment_add_reference(actor=manager, entry=posted, reference="x")
    # still downloadable
    assert client.get(f"/app/ledger/attachments/{attachment.pk}/").status_code == 200


def test_who_may_attach_and_download(client, accountant, make_user, make_organization, media):
    entry = draft(accountant)
    client.force_login(accountant)
    attach(client, entry, "receipt.pdf", PDF)
    attachment = JournalAttachment.objects.get()
    url = f"/app/ledger/attachments/{attachment.pk}/"
    member = make_user()  # a plain member may not view the books
    client.force_login(member)
    assert client.get(url).status_code in (403, 404)
    assert attach(client, entry, "more.pdf", PDF).status_code == 403
    with pytest.raises(Forbidden):
        services.journal_attachment_add_file(actor=member, entry=entry, name="x.pdf", data=PDF)
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    client.force_login(stranger)
    assert client.get(url).status_code == 404  # another organization's attachment
    assert client.post(f"{url}delete/").status_code == 404
    assert attach(client, entry, "more.pdf", PDF).status_code == 404  # another organization's entry
    assert JournalAttachment.objects.count() == 1
    client.logout()
    assert client.get(url).status_code == 302


def test_service_rules_directly(accountant, media):
    entry = draft(accountant)
    with pytest.raises(TooLarge):
        services.journal_attachment_add_file(actor=accountant, entry=entry, name="big.csv",
                                             data=b"a" * (ATTACHMENT_MAX_BYTES + 1))
    with pytest.raises(InvalidInput):
        services.journal_attachment_add_reference(actor=accountant, entry=entry, reference="x" * 501)
    stored = services.journal_attachment_add_file(actor=accountant, entry=entry, name="../../etc/passwd.csv",
                                                  data=CSV)
    assert stored.original_name == "passwd.csv" and ".." not in stored.file.name



def test_the_reads_are_selectors_scoped_to_who_may_view_the_books(accountant, make_user, make_organization, media):
    entry = draft(accountant)
    first = services.journal_attachment_add_reference(actor=accountant, entry=entry, reference="Bank statement")
    second = services.journal_attachment_add_file(actor=accountant, entry=entry, name="receipt.pdf", data=PDF)
    other = services.journal_attachment_add_reference(actor=accountant, entry=draft(accountant), reference="Else")
    assert [a.pk for a in selectors.journal_attachment_list_for(accountant, entry)] == [first.pk, second.pk]
    assert selectors.journal_attachment_get_for(accountant, second.pk) == second
    member = make_user()  # a plain member may not view the books: nothing listed, one attachment is 404
    assert list(selectors.journal_attachment_list_for(member, entry)) == []
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    assert list(selectors.journal_attachment_list_for(stranger, entry)) == []
    for actor in (member, stranger):
        with pytest.raises(NotFound):
            selectors.journal_attachment_get_for(actor, second.pk)
    assert other.pk not in {a.pk for a in selectors.journal_attachment_list_for(accountant, entry)}
    # reads live in the selectors only (services write)
    assert not hasattr(services, "journal_attachment_list_for") and not hasattr(services, "journal_attachment_get_for")


def test_the_admin_shows_the_attachments_inline(client, manager, media):
    entry = draft(manager)
    services.journal_attachment_add_file(actor=manager, entry=entry, name="receipt.pdf", data=PDF)
    services.journal_attachment_add_reference(actor=manager, entry=entry, reference="Bank statement March")
    client.force_login(manager)
    html = client.get(f"/admin/ledger/journalentry/{entry.pk}/change/").content.decode()
    attachment = JournalAttachment.objects.get(kind="file")
    assert f'href="/app/ledger/attachments/{attachment.pk}/"' in html and "Bank statement March" in html
