"""HTMX back-office views for wallets, the chain, transactions, cryptocurrencies, prices and portfolio."""
