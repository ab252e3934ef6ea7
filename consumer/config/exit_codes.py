"""Process exit codes: a contract that scripts, the chart and runbooks rely on (README,
"Commands"). One name per code."""

from typing import Final

OK: Final = 0
ERROR: Final = 1
# The command cannot go on as asked: an invalid setting or argument, an unreadable input file;
# for `init --plan`, the changes AEP needs are still pending (nothing was applied).
USAGE: Final = 2
AEP_CONFIG_FAULT: Final = 3
DLQ_GUARD_TRIPPED: Final = 4
