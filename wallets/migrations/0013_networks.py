"""Issue 14: wallets, transactions and outgoing transfers carry their network (wallets.networks).

Every wallet and transaction stored so far was on the one chain the app knew, "ethereum" (the node of
ETH_RPC_URL); a send stored without a network gets the configured network of its chain id ("ethereum"
for ETH_CHAIN_ID). A wallet's address becomes unique per (organization, network): one key may be a
wallet on ethereum and on polygon."""

from django.conf import settings
from django.db import migrations, models

import wallets.networks


def sends_get_their_network(apps, schema_editor):
    db = schema_editor.connection.alias
    OutgoingTransfer = apps.get_model("wallets", "OutgoingTransfer")
    unnamed = OutgoingTransfer.objects.using(db).filter(network="")
    for chain_id in set(unnamed.order_by().values_list("chain_id", flat=True)):
        if int(chain_id) == int(settings.ETH_CHAIN_ID):
            name = "ethereum"
        else:
            found = wallets.networks.network_for_chain_id(chain_id)
            name = found.name if found is not None else f"chain-{chain_id}"
        unnamed.filter(chain_id=chain_id).update(network=name)


class Migration(migrations.Migration):

    dependencies = [
        ('wallets', '0012_transaction_time_index'),
    ]

    operations = [
        # Existing rows are filled with "ethereum" by AddField; new rows get the default network.
        migrations.AddField(
            model_name='wallet',
            name='network',
            field=models.CharField(default='ethereum', max_length=40),
        ),
        migrations.AlterField(
            model_name='wallet',
            name='network',
            field=models.CharField(default=wallets.networks.default_network_name, max_length=40),
        ),
        migrations.AddField(
            model_name='transaction',
            name='network',
            field=models.CharField(default='ethereum', max_length=40),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='network',
            field=models.CharField(default=wallets.networks.default_network_name, max_length=40),
        ),
        migrations.AlterField(
            model_name='outgoingtransfer',
            name='network',
            field=models.CharField(blank=True, default=wallets.networks.default_network_name, max_length=40),
        ),
        migrations.RunPython(sends_get_their_network, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name='wallet',
            name='wallets_org_address_unique',
        ),
        migrations.AddConstraint(
            model_name='wallet',
            constraint=models.UniqueConstraint(fields=('organization', 'network', 'address'),
                                               name='wallets_org_network_address_unique'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['organization', 'network', '-transaction_date'],
                               name='tx_org_network_date_idx'),
        ),
    ]
