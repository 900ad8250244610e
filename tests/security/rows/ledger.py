"""Access-matrix rows of the ledger's pages: the booking review (issue 19) and the journal entry
pages (issue 11) are for those who may view the books; drafts are written by those who work the
books (accountants included), posting and reversing by the staff (managers and admins)."""

from tests.security.access_table import BOOKS, STAFF, Rule

ENTRY = "/app/ledger/entries/{entry_id}/"

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
}
