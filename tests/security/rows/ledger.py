"""Access-matrix rows of the ledger's pages: the booking review (issue 19) and the journal entry
pages (issue 11) are for those who may view the books; drafts are written by those who work the
books (accountants included), posting and reversing by the staff (managers and admins). Journal
attachments and the transactions drawer's books panel (issue 11) are the books roles' too."""

from tests.security.access_table import BOOKS, STAFF, Rule

ENTRY = "/app/ledger/entries/{entry_id}/"
ATTACHMENT = "/app/ledger/attachments/{attachment_id}/"

PAGES = {
    ("GET", "/app/ledger/review/"): Rule(BOOKS),
    ("GET", "/app/ledger/entries/"): Rule(BOOKS),
    ("GET", "/app/ledger/entries/new/"): Rule(BOOKS),
    ("POST", "/app/ledger/entries/new/"): Rule(BOOKS, body={"date": "2026-03-01", "description": "matrix entry",
                                                           "line_account": ["1110", "3100"],
                                                           "line_debit": ["5.00", ""], "line_credit": ["", "5.00"]}),
    ("GET", ENTRY): Rule(BOOKS, obj="entry"),
    ("GET", ENTRY + "edit/"): Rule(BOOKS, obj="entry"),
    ("POST", ENTRY + "edit/"): Rule(BOOKS, obj="entry", body={"date": "2026-02-01", "description": "matrix edit",
                                                              "line_account": ["1110", "3100"],
                                                              "line_debit": ["25.00", ""],
                                                              "line_credit": ["", "25.00"]},
                                    destructive=True),
    ("POST", ENTRY + "post/"): Rule(STAFF, obj="entry", body={}, destructive=True),
    ("POST", ENTRY + "reverse/"): Rule(STAFF, obj="posted_entry", body={}, destructive=True),
    ("POST", ENTRY + "delete/"): Rule(BOOKS, obj="entry", body={}, destructive=True),
    # attachments (issue 11): added on drafts by those who work the books, read by those who view them
    ("POST", ENTRY + "attachments/"): Rule(BOOKS, obj="entry", body={"reference": "matrix reference"}),
    ("GET", ATTACHMENT): Rule(BOOKS, obj="attachment"),
    ("POST", ATTACHMENT + "delete/"): Rule(BOOKS, obj="attachment", body={}, destructive=True),
    # the transactions drawer's books panel: the entry and cost basis of a transaction
    ("GET", "/app/ledger/transactions/{transaction_id}/books/"): Rule(BOOKS, obj="transaction"),
}


def make_fresh(kit) -> dict:
    import datetime as dt
    from decimal import Decimal

    from ledger import services
    from tests.security.world import SECRET

    def new_attachment():
        # A file on a draft of A, attached by A's accountant (the service sniffs it as a PDF).
        accountant = kit.members["A:accountant"]
        entry = services.journal_entry_create(
            created_by=accountant, date=dt.date(2026, 2, 1), description=f"attached {SECRET}",
            line_items=[{"account_code": "1110", "debit_amount": Decimal("5")},
                        {"account_code": "3100", "credit_amount": Decimal("5")}])
        attachment = services.journal_attachment_add_file(actor=accountant, entry=entry, name=f"receipt-{SECRET}.pdf",
                                                          data=b"%PDF-1.4 " + SECRET.encode())
        return kit.remember("attachment", attachment.pk)

    return {"attachment": new_attachment}
