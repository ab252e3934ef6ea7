"""AEP client: token, envelope, inlet sender (the contract lives in protocol.py)."""
