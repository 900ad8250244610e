"""Issue 17: a platform superuser's admin list of journal entries (every organization, newest first) is
a window of dates; without an index on the date alone the embedded server read the whole collection
for each page (8.4 s at 100k)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_journal_time_index")]

    operations = [
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["-date"], name="journal_date_idx"),
        ),
    ]
