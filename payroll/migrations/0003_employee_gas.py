from django.db import migrations, models


def _token():
    return models.DecimalField(blank=True, null=True, decimal_places=18, max_digits=34)


class Migration(migrations.Migration):

    dependencies = [
        ('payroll', '0002_crypto_payouts'),
    ]

    operations = [
        migrations.AddField(model_name='payslip', name='gas_fee_bearer',
                            field=models.CharField(blank=True, default='', max_length=10)),
        migrations.AddField(model_name='payslip', name='payout_net_amount', field=_token()),
        migrations.AddField(model_name='payslip', name='gas_fee_charged', field=_token()),
        migrations.AddField(model_name='payslip', name='gas_fee_charged_eth', field=_token()),
        migrations.AddField(model_name='payslip', name='gas_fee_charged_fiat',
                            field=models.DecimalField(blank=True, null=True, decimal_places=8, max_digits=34)),
        migrations.AddField(model_name='payslip', name='gas_charge_limit',
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name='payslip', name='gas_charge_max_fee_per_gas',
                            field=models.PositiveBigIntegerField(blank=True, null=True)),
        migrations.AddField(model_name='payslip', name='gas_charge_eth_rate',
                            field=models.DecimalField(blank=True, null=True, decimal_places=8, max_digits=34)),
    ]
