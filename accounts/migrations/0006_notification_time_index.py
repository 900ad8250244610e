"""Issue 17: a person's notifications are read newest first from an (user, created_at) index, and
their first page from the per-person day counts (`core/time_index.py`), built here from the
notifications already stored; later writes keep them (`core/time_indexed.py`)."""

from django.db import migrations, models


def count_existing_notifications(apps, schema_editor):
    from core.time_index import time_index_ensure, time_index_rebuild

    time_index_ensure()
    time_index_rebuild(scope="notifications", collection="notifications", date_field="created_at",
                       organization_field="user_id")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_organization_invitations'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['user', '-created_at'], name='notifications_user_created_idx'),
        ),
        migrations.RunPython(count_existing_notifications, migrations.RunPython.noop),
    ]
