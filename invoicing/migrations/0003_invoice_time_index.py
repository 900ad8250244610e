"""Issue 17: the per-organization day counts behind the invoice list's first-page window
(`core/time_index.py`), built from the invoices already stored; later writes keep them
(`core/time_indexed.py`)."""

from django.db import migrations


def count_existing_invoices(apps, schema_editor):
    from core.time_index import time_index_ensure, time_index_rebuild

    time_index_ensure()
    time_index_rebuild(scope="invoices", collection="invoices", date_field="created_at")


class Migration(migrations.Migration):

    dependencies = [
        ("invoicing", "0002_unapplied_payments"),
    ]

    operations = [
        migrations.RunPython(count_existing_invoices, migrations.RunPython.noop),
    ]
