"""JSON API router for wallets, the chain, transactions, cryptocurrencies, prices and portfolio (thin: parses, calls services/selectors, serialises)."""
