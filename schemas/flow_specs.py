"""Flow Service specs: fixed ids AEP gives every org (docs/AEP.md §2.10).

Shared by the consumer, which provisions and checks the dataflow, and the emulator, which
serves the same specs.
"""

from __future__ import annotations

from typing import Final

HTTP_API_CONNECTION_SPEC: Final = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_TARGET_SPEC: Final = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
# XDM in, XDM out: no transformation, so no `header.operations` either.
PASSTHROUGH_FLOW_SPEC: Final = "d8a6f005-7eaf-4153-983e-e8574508b877"
# The dataflow spec "with Data Prep": the only route that honours `header.operations`, which
# the service needs for deletes (docs/AEP.md §2.9 "use Data Prep upserts via an HTTP API source
# dataflow", §2.10 flow spec table; docs/DESIGN.md §6 "Deletes").
DATA_PREP_FLOW_SPEC: Final = "c1a19761-d2c7-4702-b9fa-fe91f0613e81"
