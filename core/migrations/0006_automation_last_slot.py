from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_task_run_time_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='automationstate',
            name='last_slot',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
