"""Issue 17: the per-organization day counts behind the task-runs list's first-page window
(`core/time_index.py`), built from the runs already stored; later writes keep them (`core/time_indexed.py`)."""

from django.db import migrations

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_automation'),
    ]

    operations = [
        time_index_count_existing(scope="task_runs", collection="task_runs", date_field="created_at"),
    ]
