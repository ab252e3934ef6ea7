"""Process exit codes: a contract that scripts, the chart and runbooks rely on."""

from typing import Final

OK: Final = 0
ERROR: Final = 1
CONFIG_INVALID: Final = 2
AEP_CONFIG_FAULT: Final = 3
DLQ_GUARD_TRIPPED: Final = 4

# `init --plan`: changes are pending.
PLAN_HAS_CHANGES: Final = 2
# `map`: usage or I/O error.
USAGE_ERROR: Final = 2
