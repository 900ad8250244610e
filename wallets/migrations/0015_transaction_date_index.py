"""Issue 17: a platform superuser's admin list of transactions (every organization, newest first) is a
window of dates; without an index on the date alone the embedded server read the whole collection
for each page."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("wallets", "0014_transaction_classified_index")]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["-transaction_date"], name="tx_date_idx"),
        ),
    ]
