"""Issue 17: the per-organization day counts behind the transactions list's first-page window
(`core/time_index.py`), built from the rows already stored. Later writes keep them up to date
(`core/time_indexed.py`)."""

from django.db import migrations

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ('wallets', '0011_contract_calls'),
    ]

    operations = [
        time_index_count_existing(scope="transactions", collection="transactions", date_field="transaction_date"),
    ]
