"""Issue 17: the audit log's admin list is read newest first as a bounded window; the per-organization
day counts behind it (`core/time_index.py`) are built here from the entries already stored, and later
writes keep them (`core/time_indexed.py`)."""

from django.db import migrations

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_notification_time_index'),
    ]

    operations = [
        time_index_count_existing(scope="audit_log", collection="audit_log", date_field="created_at"),
    ]
