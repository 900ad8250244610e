"""The JSON API of wallets: one module per router, mounted in config/api.py under these names.

- /api/wallets/ (`router`): wallets.wallet_api
- /api/blockchain/ (`blockchain_router`): wallets.blockchain_api
- /api/transactions/ (`transactions_router`): wallets.transaction_api
- /api/exchange-rates/ (`exchange_rates_router`): wallets.price_api
"""

from wallets.blockchain_api import blockchain_router
from wallets.price_api import exchange_rates_router
from wallets.transaction_api import transactions_router
from wallets.wallet_api import router

__all__ = ["blockchain_router", "exchange_rates_router", "router", "transactions_router"]
