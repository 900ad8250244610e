"""Invitations to join an organization, and the audit log's organization (filled from each existing
entry's actor; entries without an actor in an organization stay installation-wide)."""

import django.db.models.deletion
import django_mongodb_backend.fields
from django.conf import settings
from django.db import migrations, models


def audit_entries_into_their_actors_organization(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model("accounts", "User")
    AuditLogEntry = apps.get_model("accounts", "AuditLogEntry")
    for user in User.objects.using(db).exclude(organization=None).only("pk", "organization"):
        AuditLogEntry.objects.using(db).filter(actor_id=user.pk, organization=None).update(
            organization_id=user.organization_id)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_organizations'),
        ('core', '0002_organizations'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditlogentry',
            name='organization',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='+', to='core.organization'),
        ),
        migrations.AddIndex(
            model_name='auditlogentry',
            index=models.Index(fields=['organization', '-created_at'], name='audit_log_org_created_idx'),
        ),
        migrations.RunPython(audit_entries_into_their_actors_organization, migrations.RunPython.noop),
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', django_mongodb_backend.fields.ObjectIdAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254)),
                ('role', models.CharField(choices=[('USER', 'User'), ('MANAGER', 'Manager'), ('ADMIN', 'Admin')], default='USER', max_length=16)),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('expires_at', models.DateTimeField()),
                ('status', models.CharField(choices=[('PENDING', 'Pending'), ('ACCEPTED', 'Accepted'), ('DECLINED', 'Declined'), ('REVOKED', 'Revoked')], default='PENDING', max_length=10)),
                ('responded_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('accepted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('invited_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.organization')),
            ],
            options={
                'db_table': 'invitations',
                'ordering': ['-created_at'],
                'abstract': False,
                'indexes': [models.Index(fields=['organization', 'status', '-created_at'], name='invitations_org_status_idx'), models.Index(fields=['email', 'status'], name='invitations_email_status_idx'), models.Index(fields=['token_hash'], name='invitations_token_idx')],
            },
        ),
    ]
