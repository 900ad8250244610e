"""WebSocket consumers for wallets, the chain, transactions, cryptocurrencies, prices and portfolio."""
