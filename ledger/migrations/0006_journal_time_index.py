"""Issue 17: the per-organization day counts behind the journal list's first-page window
(`core/time_index.py`), built from the entries already stored; later writes keep them
(`core/time_indexed.py`)."""

from django.db import migrations

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0005_journal_attachments'),
    ]

    operations = [
        time_index_count_existing(scope="journal_entries", collection="journal_entries", date_field="date"),
    ]
