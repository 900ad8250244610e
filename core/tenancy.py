"""Tenancy: every business object belongs to an organization, and every query for an actor is scoped
here, in one place.

- `OrganizationOwned` is the abstract base of every scoped model: an `organization` foreign key and
  the `OrganizationQuerySet` manager. Indexes of large collections lead with `organization`, so it
  can be their shard key.
- `Model.objects.for_actor(actor)` is the only way an API handler, view, consumer or selector reads
  the rows an actor may reach: their organization's. An actor without one (anonymous, the system
  user) reaches nothing. Another organization's id is then simply not found (404, never 403: no
  existence oracle).
- `for_admin(actor)`: the Django admin, where a platform superuser sees every organization.
- Work done for an organization without a user (the monitor, periodic syncs) names it:
  `for_organization(organization_id)`.
What an actor may *do* with their organization's rows is `core.permissions`.
"""

from __future__ import annotations

from django.db import models

from core import permissions


class OrganizationQuerySet(models.QuerySet):
    def for_organization(self, organization_id):
        if organization_id is None:
            return self.none()
        return self.filter(organization_id=organization_id)

    def for_actor(self, actor):
        if not permissions.can_use_backoffice(actor):
            return self.none()
        return self.filter(organization_id=actor.organization_id)

    def for_admin(self, actor):
        if permissions.can_see_all_organizations(actor):
            return self
        return self.for_actor(actor)


OrganizationManager = models.Manager.from_queryset(OrganizationQuerySet)


class OrganizationOwned(models.Model):
    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, related_name="+")

    objects = OrganizationManager()

    class Meta:
        abstract = True
