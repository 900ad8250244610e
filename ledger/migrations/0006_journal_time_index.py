"""Issue 17: the per-organization day counts behind the journal list's first-page window
(`core/time_index.py`), built from the entries already stored; later writes keep them
(`core/time_indexed.py`)."""

from django.db import migrations


def count_existing_entries(apps, schema_editor):
    from core.time_index import time_index_ensure, time_index_rebuild

    time_index_ensure()
    time_index_rebuild(scope="journal_entries", collection="journal_entries", date_field="date")


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0005_journal_attachments'),
    ]

    operations = [
        migrations.RunPython(count_existing_entries, migrations.RunPython.noop),
    ]
