from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("wallets", "0013_networks")]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["organization", "is_classified"], name="tx_org_classified_idx"),
        ),
    ]
