"""Issue 17: payslips listed newest first by a bounded window. The (organization, created_at) index
the window reads, and the per-organization day counts that choose where it starts
(`core/time_index.py`), built from the payslips already stored; later writes keep them
(`core/time_indexed.py`)."""

from django.db import migrations, models

from core.time_index import time_index_count_existing


class Migration(migrations.Migration):

    dependencies = [
        ("payroll", "0003_employee_gas"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="payslip",
            index=models.Index(fields=["organization", "-created_at"], name="payslips_org_created_idx"),
        ),
        time_index_count_existing(scope="payslips", collection="payslips", date_field="created_at"),
    ]
