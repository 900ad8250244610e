"""`manage.py tax_report --user U --method fifo|lifo|hifo|acb|uk --year Y | --start D --end D
--format csv|xlsx|pdf --output F [--totals] [--lot-scope all|wallet]`

A stable interface (other tools rely on it). The CSV has one row per disposal with the header
`asset,quantity,date_acquired,date_disposed,proceeds,cost_basis,gain,term`; with `--totals` it is
`year,proceeds,cost_basis,gains,losses,net` per year (calendar years; for `uk` the tax year from
6 April, named by the year it starts in).

The report covers U's organization: every transaction of its members, in its reporting fiat, with
its cost-basis method and lot scope unless --method / --lot-scope say otherwise. A user made alone
(`manage.py create_user`, registration) has an organization of their own, so that is only U's data.
Disposals are matched over the organization's whole history.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import users_matching
from ledger.cost_basis import LOT_SCOPES, METHODS, InsufficientHoldings, TradeError
from reporting import exports
from reporting.models import TaxReportType
from reporting.periods import PeriodError, report_period, tax_year_period
from reporting.selectors import tax_summary_for


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Write the capital gains report (disposals or yearly totals) of a user's organization as CSV, XLSX or PDF."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username, email or id")
        parser.add_argument("--method", choices=METHODS, help="cost-basis method (default: the organization's setting)")
        parser.add_argument("--year", type=int, help="calendar year (uk: the tax year starting 6 April of it)")
        parser.add_argument("--start", help="first day, YYYY-MM-DD (with --end)")
        parser.add_argument("--end", help="last day, YYYY-MM-DD, inclusive (with --start)")
        parser.add_argument("--format", choices=("csv", "xlsx", "pdf"), default="csv")
        parser.add_argument("--output", default="-", help="file to write; '-' is standard output (csv only)")
        parser.add_argument("--totals", action="store_true", help="CSV of yearly totals instead of disposals")
        parser.add_argument("--lot-scope", choices=LOT_SCOPES, help="match lots across all wallets or per wallet "
                                                                    "(default: the organization's setting)")

    def handle(self, *args, **options):
        user = self._user(options["user"])
        organization = user.organization
        if organization is None:
            raise CommandError(f"{user.get_username()!r} belongs to no organization: it keeps no books")
        method = options["method"] or organization.cost_basis_method
        if options["year"] is not None and (options["start"] or options["end"]):
            raise CommandError("give either --year or --start and --end, not both")
        if options["year"] is None and not (options["start"] and options["end"]):
            raise CommandError("give --year Y, or both --start D and --end D")
        try:
            if options["year"] is not None:
                start, end = tax_year_period(options["year"], method)
            else:
                start, end = report_period(TaxReportType.CUSTOM, method=method, start=_day(options["start"]),
                                           end=_day(options["end"]))
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        if options["format"] != "csv" and options["output"] == "-":
            raise CommandError(f"--format {options['format']} needs --output FILE")
        if options["totals"] and options["format"] != "csv":
            raise CommandError("--totals writes CSV; XLSX and PDF reports always include the yearly totals")

        try:
            summary = tax_summary_for(organization, method=method, start=start, end=end,
                                      lot_scope=options["lot_scope"], label=user.get_username())
        except (InsufficientHoldings, TradeError) as exc:
            raise CommandError(f"cannot compute the report: {exc}") from None

        if options["format"] == "csv":
            content: str | bytes = exports.tax_report_csv(summary, totals=options["totals"])
        elif options["format"] == "xlsx":
            content = exports.tax_report_xlsx(summary)
        else:
            content = exports.tax_report_pdf(summary)
        self._write(options["output"], content)
        for warning in summary.warnings:
            self.stderr.write(f"note: {warning}")
        if options["output"] != "-":
            self.stderr.write(
                f"{user.get_username()}: {len(summary.disposals)} disposal(s) {start} to {end} ({method}, "
                f"{summary.fiat}) written to {options['output']}"
            )

    def _user(self, identifier: str):
        users = users_matching(identifier=identifier)
        if not users:
            raise CommandError(f"no user {identifier!r} (give a username, email or id)")
        if len(users) > 1:
            raise CommandError(f"{identifier!r} matches more than one user; give the username")
        return users[0]

    def _write(self, output: str, content: str | bytes) -> None:
        if output == "-":
            self.stdout.write(content, ending="")
            return
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"folder {path.parent} does not exist")
        temporary = path.with_name(f".{path.name}.partial")
        # Written whole, then renamed: a failure never leaves a half-written report behind.
        if isinstance(content, str):
            temporary.write_text(content, encoding="utf-8", newline="")
        else:
            temporary.write_bytes(content)
        temporary.replace(path)
