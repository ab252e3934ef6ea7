"""`profile-sync init`: read AEP's state, plan the changes, refuse breaking drift, apply.

`observe` (GETs only) -> `plan` (pure) -> `apply` (writes, in dependency order) -> `report`.
"""
