"""Organizations: every existing user moves into one organization (the business that ran this
installation before organizations existed), which takes over the tax settings of its first admin.
Only the inactive system user stays outside. The other apps' migrations then move their rows into
the organization of the row's user, or into this one."""

import django.db.models.deletion
from django.db import migrations, models

SYSTEM_USERNAME = "system"


def existing_users_into_one_organization(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model("accounts", "User")
    Organization = apps.get_model("core", "Organization")
    users = User.objects.using(db).exclude(username=SYSTEM_USERNAME)
    if not users.exists():
        return
    first_admin = (users.filter(role="ADMIN").order_by("date_joined").first()
                   or users.filter(is_superuser=True).order_by("date_joined").first()
                   or users.order_by("date_joined").first())
    name = (first_admin.company or "").strip() or "My organization"
    organization = Organization.objects.using(db).create(
        name=name[:200],
        reporting_fiat=getattr(first_admin, "reporting_fiat", "USD") or "USD",
        cost_basis_method=getattr(first_admin, "cost_basis_method", "fifo") or "fifo",
        cost_basis_lot_scope=getattr(first_admin, "cost_basis_lot_scope", "all") or "all",
    )
    users.update(organization=organization)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tax_settings'),
        ('auth', '0001_initial'),
        ('core', '0002_organizations'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='is_accountant',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='user',
            name='organization',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='members', to='core.organization'),
        ),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(fields=['organization', 'role'], name='users_org_role_idx'),
        ),
        migrations.RunPython(existing_users_into_one_organization, migrations.RunPython.noop),
        migrations.RemoveField(model_name='user', name='cost_basis_lot_scope'),
        migrations.RemoveField(model_name='user', name='cost_basis_method'),
        migrations.RemoveField(model_name='user', name='reporting_fiat'),
    ]
