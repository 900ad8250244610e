# Unapplied payments of invoices (issue 12): transfers settlement could not apply, for staff to decide.

import django.db.models.deletion
import django_mongodb_backend.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_task_run_organizations'),
        ('invoicing', '0001_initial'),
        ('wallets', '0009_source_and_direction_choices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='UnappliedPayment',
            fields=[
                ('id', django_mongodb_backend.fields.ObjectIdAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('external_id', models.CharField(max_length=200)),
                ('tx_hash', models.CharField(blank=True, default='', max_length=66)),
                ('asset', models.CharField(max_length=20)),
                ('amount', models.DecimalField(decimal_places=18, max_digits=34)),
                ('mined_at', models.DateTimeField()),
                ('seen_at', models.DateTimeField()),
                ('reason', models.CharField(choices=[('QUOTE_EXPIRED', 'Paid after the crypto quote expired'), ('INVOICE_PAID', 'The invoice was already paid'), ('INVOICE_CANCELLED', 'The invoice was cancelled')], max_length=20)),
                ('status', models.CharField(choices=[('OPEN', 'Open (staff decide)'), ('APPLIED', 'Applied to the invoice'), ('DISMISSED', 'Dismissed (e.g. refunded outside)')], default='OPEN', max_length=10)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('applied_rate', models.DecimalField(blank=True, decimal_places=8, max_digits=34, null=True)),
                ('dismiss_reason', models.CharField(blank=True, default='', max_length=500)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='unapplied_payments', to='invoicing.invoice')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.organization')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='invoicing.invoicepayment')),
                ('transaction', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallets.transaction')),
            ],
            options={
                'db_table': 'invoice_unapplied_payments',
                'ordering': ['mined_at'],
                'indexes': [models.Index(fields=['organization', 'external_id'], name='invoice_unapplied_org_ext_idx'), models.Index(fields=['organization', 'invoice', 'status'], name='invoice_unapplied_org_inv_idx'), models.Index(fields=['organization', 'status'], name='invoice_unapplied_status_idx')],
                'constraints': [models.UniqueConstraint(fields=('organization', 'external_id'), name='invoice_unapplied_org_ext_uniq')],
            },
        ),
    ]
