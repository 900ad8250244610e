"""Organizations: tax reports and financial statements belong to an organization. Existing rows move
into the organization of the user who requested them (a statement: its author), else into the oldest
organization (the one accounts/0004 made for the existing users). Indexes lead with the organization
(the shard key of both collections)."""

import django.db.models.deletion
from django.db import migrations, models


def rows_into_their_organization(apps, schema_editor):
    db = schema_editor.connection.alias
    Organization = apps.get_model("core", "Organization")
    User = apps.get_model("accounts", "User")
    fallback = None

    def fallback_organization():
        nonlocal fallback
        if fallback is None:
            fallback = (Organization.objects.using(db).order_by("created_at", "pk").first()
                        or Organization.objects.using(db).create(name="My organization"))
        return fallback

    organization_of_user = {}

    def organization_for(user_id):
        if user_id not in organization_of_user:
            user = User.objects.using(db).filter(pk=user_id).only("organization").first()
            organization_of_user[user_id] = getattr(user, "organization_id", None) or fallback_organization().pk
        return organization_of_user[user_id]

    for model_name, user_field in (("TaxReport", "user_id"), ("FinancialStatement", "created_by_id")):
        model = apps.get_model("reporting", model_name)
        rows = model.objects.using(db).filter(organization__isnull=True).only(user_field)
        by_organization: dict = {}
        for row in rows:
            by_organization.setdefault(organization_for(getattr(row, user_field)), []).append(row.pk)
        for organization_id, ids in by_organization.items():
            model.objects.using(db).filter(pk__in=ids).update(organization_id=organization_id)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_organizations'),
        ('core', '0002_organizations'),
        ('reporting', '0002_financialstatement'),
    ]

    operations = [
        migrations.AddField(
            model_name='taxreport',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AddField(
            model_name='financialstatement',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.RunPython(rows_into_their_organization, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='taxreport',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AlterField(
            model_name='financialstatement',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.RemoveIndex(
            model_name='taxreport',
            name='tax_reports_user_created_idx',
        ),
        migrations.RemoveIndex(
            model_name='financialstatement',
            name='fin_statements_kind_idx',
        ),
        migrations.AddIndex(
            model_name='taxreport',
            index=models.Index(fields=['organization', '-created_at'], name='tax_reports_org_created_idx'),
        ),
        migrations.AddIndex(
            model_name='financialstatement',
            index=models.Index(fields=['organization', 'kind', '-created_at'], name='fin_statements_org_kind_idx'),
        ),
    ]
