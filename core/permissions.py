"""Who may see and do what: the one home of the rules.

Every service, API handler, view, admin class, WebSocket consumer and the admin sidebar asks this
module; no role string literal appears anywhere else. The rules are about an *actor* (a user) inside
their *organization*: a role (USER / MANAGER / ADMIN) means what it means within the organization
the user belongs to, and no rule here ever grants anything across organizations. Which rows an actor
may reach at all is decided by `core.tenancy` (every scoped query goes through it); these predicates
decide what the actor may do with the rows of their own organization.

The roles, within an organization:
- USER: an employee. Their own wallets and transactions, their notifications and profile. No books.
- Accountant (a flag on any member, `is_accountant`): works the books: chart of accounts, journal
  entries (drafts: create, edit, delete), statements, tax reports, every wallet and transaction of
  the organization (read). Cannot post or reverse entries, manage people or set the lock date.
- MANAGER: everything an accountant does, plus posting and reversing entries, inviting and
  verifying employees, the admin site and its live feeds, task runs.
- ADMIN: everything, plus roles, the organization's settings (fiat, cost-basis method, branding) and
  the lock date.
A platform superuser holds every rule inside their own organization and, in the Django admin only,
sees every organization (`core.tenancy.OrganizationQuerySet.for_admin`).
"""

from __future__ import annotations

from django.db import models

from core.errors import ErrorCode, Forbidden, NotFound


class Role(models.TextChoices):
    USER = "USER", "User"
    MANAGER = "MANAGER", "Manager"
    ADMIN = "ADMIN", "Admin"


STAFF_ROLES = (Role.MANAGER, Role.ADMIN)


class Audience:
    """Who in an organization a live event reaches (core.realtime.organization_group)."""
    MEMBERS = "members"  # every member of the organization
    BOOKS = "books"  # those who may view the books (can_view_books)
    STAFF = "staff"  # managers and admins of the organization (is_org_manager)


def role_is_staff(role: str) -> bool:
    """Whether a role opens the admin site (the User.is_staff flag follows this)."""
    return role in STAFF_ROLES


def _active(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and bool(getattr(actor, "is_active", False))


def _member(actor) -> bool:
    return _active(actor) and getattr(actor, "organization_id", None) is not None


def _superuser(actor) -> bool:
    return _active(actor) and bool(getattr(actor, "is_superuser", False))


def is_org_admin(actor) -> bool:
    return _member(actor) and (actor.role == Role.ADMIN or _superuser(actor))


def is_org_manager(actor) -> bool:
    """MANAGER or ADMIN of their organization (or a platform superuser)."""
    return _member(actor) and (actor.role in STAFF_ROLES or _superuser(actor))


def is_accountant(actor) -> bool:
    return _member(actor) and bool(getattr(actor, "is_accountant", False))


def in_organization(actor, organization_id) -> bool:
    """The object's organization is the actor's own."""
    return _member(actor) and organization_id is not None and str(actor.organization_id) == str(organization_id)


# --- the admin site and the back-office ---------------------------------------------------------------

def can_open_admin(actor) -> bool:
    return is_org_manager(actor) or (_superuser(actor))


def can_see_all_organizations(actor) -> bool:
    """Only in the admin: a platform superuser's changelists span every organization."""
    return _superuser(actor)


def can_use_backoffice(actor) -> bool:
    return _member(actor)


# --- people --------------------------------------------------------------------------------------------

def can_manage_team(actor) -> bool:
    """Invite people, verify employees, (de)activate members, remove them."""
    return is_org_manager(actor)


def can_change_roles(actor) -> bool:
    return is_org_admin(actor)


def can_manage_member(actor, member) -> bool:
    """A manager acts on the plain users of their organization (an admin on anyone but themselves)."""
    if not can_manage_team(actor) or not in_organization(actor, member.organization_id) or member.pk == actor.pk:
        return False
    if is_org_admin(actor):
        return True
    return member.role == Role.USER and not member.is_superuser


def can_manage_organization(actor) -> bool:
    """Organization settings: name, fiat, cost-basis method, lot scope, branding."""
    return is_org_admin(actor)


# --- the books -----------------------------------------------------------------------------------------

def can_view_books(actor) -> bool:
    """Chart of accounts with balances, journal entries, statements, tax reports, trial balance."""
    return is_org_manager(actor) or is_accountant(actor)


def can_work_books(actor) -> bool:
    """Create and edit draft entries and accounts, generate statements and tax reports."""
    return can_view_books(actor)


def can_post_entries(actor) -> bool:
    """Post and reverse journal entries (a manager's approval)."""
    return is_org_manager(actor)


def can_set_lock_date(actor) -> bool:
    return is_org_admin(actor)


# --- wallets and transactions -------------------------------------------------------------------------

def can_view_all_wallets(actor) -> bool:
    """Every wallet and transaction of the organization; others see only the wallets they made."""
    return can_view_books(actor)


def can_view_wallet(actor, wallet) -> bool:
    return in_organization(actor, wallet.organization_id) and (
        can_view_all_wallets(actor) or wallet.user_id == actor.pk)


# --- platform ------------------------------------------------------------------------------------------

def can_view_task_runs(actor) -> bool:
    return is_org_manager(actor)


def can_run_platform_tasks(actor) -> bool:
    """Installation-wide operations (every organization's data): platform superusers only."""
    return _superuser(actor)


def can_view_staff_feeds(actor) -> bool:
    """The /ws/admin/* feeds of the actor's organization."""
    return is_org_manager(actor)


def live_audiences(actor) -> list[str]:
    """The audiences (core.realtime.Audience values) of their organization an actor's live socket
    joins: what they could read over HTTP."""
    if not can_use_backoffice(actor):
        return []
    audiences = [Audience.MEMBERS]
    if can_view_books(actor):
        audiences.append(Audience.BOOKS)
    if is_org_manager(actor):
        audiences.append(Audience.STAFF)
    return audiences


# --- membership: invitations, leaving (appended for accounts) --------------------------------------------

def can_invite(actor, role) -> bool:
    """Invite someone into the actor's organization with `role`: a manager invites plain users, an
    admin any role."""
    if role not in Role.values or not can_manage_team(actor):
        return False
    return role == Role.USER or can_change_roles(actor)


def role_reports_to_manager(role) -> bool:
    """Members of this role get a manager and go through the manager-verification flow."""
    return role == Role.USER


def holds_admin_role(member) -> bool:
    """The member holds the ADMIN role of their organization (the platform superuser flag aside): what
    counts when an organization must keep an admin."""
    return getattr(member, "role", None) == Role.ADMIN


def organization_admin_roles() -> tuple[str, ...]:
    """The roles that administer an organization (to count the admins it has left)."""
    return (Role.ADMIN,)


def can_change_member_role(actor, member) -> bool:
    """Set a member's role or accountant flag: an admin of the member's organization (not on
    themselves); in the Django admin a platform superuser on anyone."""
    if not can_change_roles(actor):
        return False
    if can_see_all_organizations(actor):
        return True
    return in_organization(actor, member.organization_id) and member.pk != actor.pk


def can_manage_platform(actor) -> bool:
    """Installation-wide settings shared by every organization (in the admin: the role groups and
    their permissions): platform superusers only."""
    return _superuser(actor)


# --- automatic work (appended by the ledger) -----------------------------------------------------------

def is_system_actor(actor) -> bool:
    """The inactive `system` user (accounts.services.SYSTEM_USERNAME): no organization, cannot log in.
    Automatic work (the journals of transactions, the default chart) acts as it, always for the one
    organization that work names; it holds no rule of its own inside any organization."""
    return (actor is not None and getattr(actor, "pk", None) is not None
            and getattr(actor, "username", None) == "system" and not getattr(actor, "is_active", True)
            and getattr(actor, "organization_id", None) is None)


# --- wallets, transactions, sends, imports, price alerts (appended by wallets) ------------------------
# Which rows an actor reaches: `Model.objects.for_actor(actor)`, then, unless can_view_all_wallets,
# only the rows whose `user` is the actor (wallets.selectors). These decide what they may do there.

def can_create_wallet(actor) -> bool:
    """Any member makes wallets of their own (an unverified employee is refused by the service)."""
    return can_use_backoffice(actor)


def can_manage_wallet(actor, wallet) -> bool:
    """Rename, (de)activate, delete, monitor, prove ownership, refresh the balance of a wallet: its
    owner, or a manager of its organization."""
    return in_organization(actor, wallet.organization_id) and (wallet.user_id == actor.pk or is_org_manager(actor))


def can_send_from_wallet(actor, wallet) -> bool:
    """Sign and broadcast a payment from a wallet's key: its owner, or a manager of its organization
    (an accountant works the books but moves no money)."""
    return can_manage_wallet(actor, wallet)


def can_record_transaction(actor, wallet) -> bool:
    """Record a manual transaction in a wallet, or import a file into it: its owner or a manager."""
    return can_manage_wallet(actor, wallet)


def can_import_transactions(actor, wallet=None) -> bool:
    """Import a file of transactions: every member into their own books (no wallet), or into a
    wallet they may record in."""
    if wallet is None:
        return can_use_backoffice(actor)
    return can_record_transaction(actor, wallet)


def can_edit_transaction(actor, transaction) -> bool:
    """Correct or delete a (manual or imported) transaction: its owner, or a manager."""
    return in_organization(actor, transaction.organization_id) and (
        transaction.user_id == actor.pk or is_org_manager(actor))


def can_edit_transaction_business_fields(actor, transaction) -> bool:
    """Business purpose, tax category, business-expense flag, description: the owner, or anyone who
    works the organization's books (accountants, managers)."""
    return can_edit_transaction(actor, transaction) or (
        in_organization(actor, transaction.organization_id) and can_work_books(actor))


def can_manage_price_alert(actor, alert) -> bool:
    """Change, re-arm or delete a price alert: its owner, or a manager of its organization."""
    return in_organization(actor, alert.organization_id) and (alert.user_id == actor.pk or is_org_manager(actor))


def can_edit_platform_assets(actor) -> bool:
    """The shared list of cryptocurrencies (chain facts every organization uses): platform
    superusers only; staff may look."""
    return can_manage_platform(actor)


def can_view_transaction(actor, transaction) -> bool:
    """The same rule as the scoped transaction queries (wallets.selectors), for one row already read
    by id: its organization's books roles, or its owner."""
    return in_organization(actor, transaction.organization_id) and (
        can_view_all_wallets(actor) or transaction.user_id == actor.pk)


# --- Enforcement: the guards services call -----------------------------------------------------------
# Services ask a predicate above and raise through these, so a refusal reads the same everywhere: 403
# for a rule the actor does not meet, 404 for an object of another organization (never an existence
# oracle). The message says who may do it.

def require(allowed: bool, message: str) -> None:
    """Refuse (Forbidden, "permission_denied") unless `allowed`."""
    if not allowed:
        raise Forbidden(ErrorCode.PERMISSION_DENIED, message)


def require_own(actor, obj) -> None:
    """An object handed to a service belongs to the actor's organization, else it is not found. The
    platform superuser's admin work on every organization is the one exception."""
    if not (in_organization(actor, obj.organization_id) or can_see_all_organizations(actor)):
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")


def acting_organization_id(actor, rule, organization_id=None, *, refused: str, system_allowed: bool = True):
    """The organization whose books `actor` acts on, after `rule`: a person needs it (403 `refused`
    otherwise) and acts on their own organization only (naming another one: 404); the system actor
    (a task, or None) acts for the organization the work names."""
    if actor is None or is_system_actor(actor):
        require(system_allowed, refused)
        if organization_id is None:
            raise ValueError("automatic work names its organization (organization_id=)")
        return organization_id
    require(rule(actor), refused)
    if organization_id is not None and not in_organization(actor, organization_id):
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return actor.organization_id


# --- invoicing ---
# Invoices are part of the books: those who may view the books read them and work drafts; issuing
# one (it posts to the books), cancelling it, credit notes and recording payments are a manager's.

def can_view_invoices(actor) -> bool:
    """Invoices, their payments, PDFs and templates of the organization."""
    return can_view_books(actor)


def can_edit_invoices(actor) -> bool:
    """Create, change and delete draft invoices."""
    return can_work_books(actor)


def can_issue_invoices(actor) -> bool:
    """Send (issue) invoices, change their status, credit notes, record payments by hand."""
    return can_post_entries(actor)


# --- payroll ---
# Payroll is part of the books: those who may view the books read every period and payslip of the
# organization; a member reads their own payslips (another member's is not found). Managers and admins
# run it: periods, pay profiles, withholding tables, editing drafts, approving (never their own
# payslip, nor editing it), paying and sending payslips.

def can_view_payroll(actor) -> bool:
    """Every period and payslip of the organization (accountants, managers, admins)."""
    return can_view_books(actor)


def can_manage_payroll(actor) -> bool:
    """Periods, pay profiles, withholding tables, processing and payments, sending payslips."""
    return is_org_manager(actor)


def can_view_payslip(actor, payslip) -> bool:
    """Their own payslip, or any payslip of the organization for those who view payroll."""
    return in_organization(actor, payslip.organization_id) and (
        can_view_payroll(actor) or payslip.employee_id == actor.pk)


def can_edit_payslip(actor, payslip) -> bool:
    """Change a draft payslip or approve it: a manager or admin of its organization, never on their
    own payslip (four eyes)."""
    return (can_manage_payroll(actor) and in_organization(actor, payslip.organization_id)
            and payslip.employee_id != actor.pk)


# --- accounts (issue 19) ---
# Login lockouts are per account and source; lifting them for every source at once is an admin's act
# (an organization's ADMIN for its members, a platform superuser for anyone), never a manager's.

def can_unlock_logins(actor, member) -> bool:
    return _superuser(actor) or (is_org_admin(actor) and in_organization(actor, member.organization_id))


# --- contracts (ai_audit, issue 14) ---
# Every member of an organization reads its contract registry and runs read-only (view/pure) calls;
# registering, editing and verifying contracts is a manager's or admin's work; a write call is
# signed by a wallet key, so it follows can_send_from_wallet for that wallet.

def can_view_contracts(actor) -> bool:
    return _member(actor)


def can_manage_contracts(actor) -> bool:
    return is_org_manager(actor)


# --- system: automation, periodic jobs, caches (issue 16) ---
# Periodic jobs and the automation switch act on every organization's data: platform superusers.
# An organization's admin reads the switch and the jobs' schedule and outcome, runs the jobs that have
# a form for one organization (for their own), and clears their organization's cached figures.

def can_view_automation(actor) -> bool:
    return is_org_admin(actor) or _superuser(actor)


def can_control_automation(actor) -> bool:
    """Start and stop automation, run installation-wide jobs, clear every organization's caches."""
    return _superuser(actor)


def can_run_organization_jobs(actor) -> bool:
    """Run a periodic job's organization form (and clear the caches) for their own organization."""
    return is_org_admin(actor)


# --- ai_audit: audits and news (issue 14) ---
# Every member of an organization reads its contract audits and its crypto news. Running an audit
# (the compiler and slither: CPU for seconds to minutes) is for those who work the books or run the
# team (accountants, managers, admins); configuring the organization's news feeds is a manager's.

def can_view_audits(actor) -> bool:
    return _member(actor)


def can_run_audits(actor) -> bool:
    return can_work_books(actor)


def can_view_news(actor) -> bool:
    return _member(actor)


def can_manage_news_feeds(actor) -> bool:
    return is_org_manager(actor)
