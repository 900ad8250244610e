"""Access-matrix rows of the ledger's pages added by issue 19: the booking review (what the
automatic journals could not book) is for those who may view the books."""

from tests.security.access_table import BOOKS, Rule

PAGES = {("GET", "/app/ledger/review/"): Rule(BOOKS)}
