"""Issue 17: the per-organization day counts behind the invoice list's first-page window
(`core/time_index.py`), built from the invoices already stored; later writes keep them
(`core/time_indexed.py`)."""

from django.db import migrations

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ("invoicing", "0002_unapplied_payments"),
    ]

    operations = [
        time_index_count_existing(scope="invoices", collection="invoices", date_field="created_at"),
    ]
