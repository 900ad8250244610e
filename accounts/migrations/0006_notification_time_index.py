"""Issue 17: a person's notifications are read newest first from an (user, created_at) index, and
their first page from the per-person day counts (`core/time_index.py`), built here from the
notifications already stored; later writes keep them (`core/time_indexed.py`)."""

from django.db import migrations, models

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_organization_invitations'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['user', '-created_at'], name='notifications_user_created_idx'),
        ),
        time_index_count_existing(scope="notifications", collection="notifications", date_field="created_at",
                                  organization_field="user_id"),
    ]
