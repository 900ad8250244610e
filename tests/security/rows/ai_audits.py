"""Access-matrix rows of contract audits and crypto news (issue 14): /api/ai/audit-contract/,
upload-contract/, audits/, audits/{id}/, audit-statistics/, crypto-news/ and the pages /app/audits/...
and /app/news/... Every member reads the organization's audits and news (core.permissions
can_view_audits / can_view_news); running an audit is for the books roles (can_run_audits);
configuring feeds is the staff's (can_manage_news_feeds).

audit-contract names its contract in the body: an address that is not a registered contract of the
caller's organization (here A's wallet, an account without code) is a 422 naming the field for the
roles that may audit, 403 for the others. upload-contract gets the matrix's CSV upload: 422 "not
Solidity" for those who may audit, 403 for the others; neither runs the analyser."""

from tests.security.access_table import BOOKS, EVERYONE, STAFF, Rule

AUDIT = "/api/ai/audits/{audit_id}/"
PAGE = "/app/audits/{audit_id}/"

API = {
    ("POST", "/api/ai/audit-contract/"): Rule(BOOKS, body={"address": "{wallet_address}"},
                                              note="not a registered contract: 422 for the books roles"),
    ("POST", "/api/ai/upload-contract/"): Rule(BOOKS, extra={"multipart": True}, note="a CSV: 422 not_solidity"),
    ("GET", "/api/ai/audits/"): Rule(EVERYONE),
    ("GET", AUDIT): Rule(EVERYONE, obj="audit"),
    ("GET", "/api/ai/audit-statistics/"): Rule(EVERYONE),
    ("GET", "/api/ai/crypto-news/"): Rule(EVERYONE),
}

PAGES = {
    ("GET", "/app/audits/"): Rule(EVERYONE),
    ("POST", "/app/audits/upload/"): Rule(BOOKS, body={}, note="no file: back to the list with a message"),
    ("GET", "/app/audits/compare/"): Rule(EVERYONE),
    ("GET", PAGE): Rule(EVERYONE, obj="audit"),
    ("GET", PAGE + "pdf/"): Rule(EVERYONE, obj="audit"),
    ("GET", "/app/news/"): Rule(EVERYONE),
    ("POST", "/app/news/feeds/"): Rule(STAFF, body={"name": "matrix", "url": "not a url"}),
    ("POST", "/app/news/feeds/{feed_id}/delete/"): Rule(STAFF, obj="news_feed", destructive=True),
    ("POST", "/app/news/refresh/"): Rule(STAFF, body={}),
}

CLEAN = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract Matrix { uint256 public n; }\n"


def make_fresh(kit) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ai_audit.models import NewsFeed
    from tests.security.world import SECRET

    manager = kit.actors["A:manager"]
    feeds = iter(range(1, 10_000))

    def new_audit():
        response = kit.client.post("/api/ai/upload-contract/", {
            "file": SimpleUploadedFile("Matrix.sol", CLEAN.encode()), "contract_name": f"matrix {SECRET}"},
            HTTP_AUTHORIZATION=f"Bearer {manager.token}")
        return kit.remember("audit", kit.ok(response, "audit")["id"])

    def new_news_feed():
        # Port 9 (discard) is closed here: a refresh of A by the matrix fails at once, recorded on the feed.
        feed = NewsFeed.objects.create(organization_id=manager.user.organization_id, name=f"matrix {SECRET}",
                                       url=f"http://127.0.0.1:9/feed-{next(feeds)}.xml")
        return kit.remember("news_feed", feed.pk)

    return {"audit": new_audit, "news_feed": new_news_feed}
