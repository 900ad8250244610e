"""Books per organization.

The ledger's accounts, entries and counters get an `organization`; everything that existed moves into
the organization accounts/0004 created (the oldest one: every existing user is in it, so it is also
each entry creator's organization); the lock date of the old `ledger_settings` document moves onto
that organization (`Organization.lock_date`) and the document goes. Counter keys become
"<organization id>:JE-<year>" / "<organization id>:chart-tree"; automatic-journal source keys
"auto:<user id>:..." become "auto:<organization id>:...". Uniqueness is then per organization
(account code, system key, entry number, source key), with plain indexes beside (stack.md defect 2),
all leading with the organization.
"""

import re

import django.db.models.deletion
from django.db import migrations, models

SETTINGS_COLLECTION = "ledger_settings"
AUTO_KEY = re.compile(r"^auto:([0-9a-fA-F]{24}):(.*)$")


def move_ledger_into_one_organization(apps, schema_editor):
    """Every account, entry and counter without an organization goes into the oldest organization;
    the old lock date goes onto it. Idempotent (rows already in an organization are left alone).
    Raw collection operations: the documents are in the old shape whatever the model says."""
    Organization = apps.get_model("core", "Organization")
    database = schema_editor.connection.database
    accounts, entries, counters = (database[name] for name in
                                   ("financial_accounts", "journal_entries", "journal_counters"))
    orphan = {"organization_id": None}  # matches a missing field too
    settings_doc = database[SETTINGS_COLLECTION].find_one({"key": "default"})
    has_rows = any(collection.count_documents(orphan, limit=1) for collection in (accounts, entries, counters))
    organization = Organization.objects.using(schema_editor.connection.alias).order_by("created_at", "pk").first()
    if organization is None:
        if not entries.count_documents(orphan, limit=1):
            # No organization and no entries: only a default chart nobody used. Each organization
            # gets its own chart when it is made; these go.
            accounts.delete_many(orphan)
            counters.delete_many(orphan)
            return
        organization = Organization.objects.using(schema_editor.connection.alias).create(name="My organization")
    if not has_rows and settings_doc is None:
        return
    org_id = organization.pk

    accounts.update_many(orphan, {"$set": {"organization_id": org_id}})

    for counter in counters.find(orphan):
        counters.update_one({"_id": counter["_id"]},
                            {"$set": {"organization_id": org_id, "key": f"{org_id}:{counter['key']}"}})

    taken = {doc["source_key"] for doc in entries.find({"organization_id": org_id, "source_key": {"$type": "string"}},
                                                       {"source_key": 1})}
    for entry in entries.find(orphan, {"source_key": 1}):
        change = {"organization_id": org_id}
        match = AUTO_KEY.match(entry.get("source_key") or "")
        if match:
            renamed = f"auto:{org_id}:{match.group(2)}"
            if renamed not in taken:  # two users' keys meeting in one organization keep their old form
                change["source_key"] = renamed
                taken.add(renamed)
        entries.update_one({"_id": entry["_id"]}, {"$set": change})

    if settings_doc is not None and settings_doc.get("lock_date") is not None and organization.lock_date is None:
        lock_date = settings_doc["lock_date"]
        Organization.objects.using(schema_editor.connection.alias).filter(pk=org_id).update(
            lock_date=lock_date.date() if hasattr(lock_date, "date") else lock_date)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_organizations'),
        ('core', '0002_organizations'),
        ('ledger', '0002_line_units'),
    ]

    operations = [
        # 1. The organization, nullable while rows move.
        migrations.AddField(
            model_name='financialaccount',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AddField(
            model_name='journalentry',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AddField(
            model_name='journalcounter',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        # 2. Installation-wide uniqueness and indexes go.
        migrations.RemoveIndex(model_name='financialaccount', name='fin_accounts_code_idx'),
        migrations.RemoveIndex(model_name='financialaccount', name='fin_accounts_type_idx'),
        migrations.RemoveIndex(model_name='financialaccount', name='fin_accounts_parent_idx'),
        migrations.RemoveIndex(model_name='financialaccount', name='fin_accounts_system_key_idx'),
        migrations.RemoveIndex(model_name='journalentry', name='journal_entry_id_idx'),
        migrations.RemoveIndex(model_name='journalentry', name='journal_date_idx'),
        migrations.RemoveIndex(model_name='journalentry', name='journal_status_idx'),
        migrations.RemoveIndex(model_name='journalentry', name='journal_source_key_idx'),
        migrations.RemoveIndex(model_name='journalentry', name='journal_tx_hash_idx'),
        migrations.RemoveIndex(model_name='journalcounter', name='journal_counters_key_idx'),
        migrations.AlterField(
            model_name='financialaccount',
            name='account_code',
            field=models.CharField(max_length=32),
        ),
        migrations.AlterField(
            model_name='financialaccount',
            name='system_key',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='entry_id',
            field=models.CharField(blank=True, editable=False, max_length=20, null=True),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='source_key',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AlterField(
            model_name='journalcounter',
            name='key',
            field=models.CharField(max_length=64),
        ),
        # 3. Existing rows and the lock date move into the organization.
        migrations.RunPython(move_ledger_into_one_organization, migrations.RunPython.noop),
        migrations.DeleteModel(name='LedgerSettings'),
        # 4. Every row has its organization.
        migrations.AlterField(
            model_name='financialaccount',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        migrations.AlterField(
            model_name='journalcounter',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='core.organization'),
        ),
        # 5. Unique per organization, plain indexes beside, all leading with the organization.
        migrations.AddConstraint(
            model_name='financialaccount',
            constraint=models.UniqueConstraint(fields=('organization', 'account_code'),
                                               name='fin_accounts_org_code_uniq'),
        ),
        migrations.AddConstraint(
            model_name='financialaccount',
            constraint=models.UniqueConstraint(fields=('organization', 'system_key'), name='fin_accounts_org_key_uniq'),
        ),
        migrations.AddIndex(
            model_name='financialaccount',
            index=models.Index(fields=['organization', 'account_code'], name='fin_accounts_org_code_idx'),
        ),
        migrations.AddIndex(
            model_name='financialaccount',
            index=models.Index(fields=['organization', 'account_type'], name='fin_accounts_org_type_idx'),
        ),
        migrations.AddIndex(
            model_name='financialaccount',
            index=models.Index(fields=['organization', 'parent_account'], name='fin_accounts_org_parent_idx'),
        ),
        migrations.AddIndex(
            model_name='financialaccount',
            index=models.Index(fields=['organization', 'system_key'], name='fin_accounts_org_key_idx'),
        ),
        migrations.AddConstraint(
            model_name='journalentry',
            constraint=models.UniqueConstraint(fields=('organization', 'entry_id'), name='journal_org_entry_id_uniq'),
        ),
        migrations.AddConstraint(
            model_name='journalentry',
            constraint=models.UniqueConstraint(fields=('organization', 'source_key'),
                                               name='journal_org_source_key_uniq'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['organization', 'entry_id'], name='journal_org_entry_id_idx'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['organization', '-date'], name='journal_org_date_idx'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['organization', 'status', 'date'], name='journal_org_status_date_idx'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['organization', 'source_key'], name='journal_org_source_key_idx'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['organization', 'transaction_hash'], name='journal_org_tx_hash_idx'),
        ),
        migrations.AddConstraint(
            model_name='journalcounter',
            constraint=models.UniqueConstraint(fields=('organization', 'key'), name='journal_counters_org_key_uniq'),
        ),
        migrations.AddIndex(
            model_name='journalcounter',
            index=models.Index(fields=['organization', 'key'], name='journal_counters_org_key_idx'),
        ),
        # 6. The lock date in the admin: a form on the organization.
        migrations.CreateModel(
            name='LockDate',
            fields=[],
            options={
                'verbose_name': 'lock date',
                'verbose_name_plural': 'lock date',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('core.organization',),
        ),
    ]
