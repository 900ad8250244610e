from unfold.sites import UnfoldAdminSite


class BackOfficeAdminSite(UnfoldAdminSite):
    site_header = "Crypto Books"
    site_title = "Crypto Books admin"
    index_title = "Back-office"
