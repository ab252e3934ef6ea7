"""Which compiled validator checks a dataset's records, and AEP's wording of its findings.

A dataset's schema names its field groups; the `schemas.xdm` options that produce the same
resolved schema follow from them (the audit field group present or not, the tenant field group
present or not). Compiled validators are cached per option set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final, Protocol

from aep_emulator.resources import Resources, Schema
from schemas.xdm.ids import EXTERNAL_SOURCE_AUDIT_ID, TENANT_FIELD_GROUP_TITLE
from schemas.xdm.options import XdmOptions

# AEP stops after five errors per message (docs/AEP.md §2.5).
MAX_ERRORS: Final = 5


@dataclass(frozen=True, slots=True)
class Finding:
    pointer: str
    keyword: str
    message: str


class RecordChecker(Protocol):
    def __call__(self, record: dict[str, Any]) -> list[Finding]: ...


def options_for_schema(schema: Schema, resources: Resources) -> XdmOptions:
    tenant_fields = False
    for group_id in schema.field_group_ids:
        group = resources.field_groups.find(group_id)
        if group is not None and group.title == TENANT_FIELD_GROUP_TITLE:
            tenant_fields = True
    return XdmOptions(
        audit_field_group=EXTERNAL_SOURCE_AUDIT_ID in schema.field_group_ids,
        tenant_fields=tenant_fields,
        tenant_id=resources.tenant_id if tenant_fields else None,
    )


class ValidatorCache:
    """Compiled checkers by option set (compiling takes a while; records arrive by thousands)."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._lock = threading.Lock()
        self._by_options: dict[XdmOptions, RecordChecker] = {}

    def options_for(self, schema: Schema) -> XdmOptions:
        return options_for_schema(schema, self._resources)

    def checker_for(self, options: XdmOptions) -> RecordChecker:
        with self._lock:
            checker = self._by_options.get(options)
            if checker is None:
                checker = compile_checker(options)
                self._by_options[options] = checker
            return checker


def compile_checker(options: XdmOptions) -> RecordChecker:
    """A checker answering AEP's pointers and wording; module level so processes can use it."""
    # Imported here: the validator module is large and only needed once records arrive.
    from schemas.xdm import aep_message, aep_pointer, compile_validator

    validator = compile_validator(options)

    def check(record: dict[str, Any]) -> list[Finding]:
        violations = validator.validate(record)
        return [
            Finding(pointer=aep_pointer(v), keyword=v.keyword, message=aep_message(v, record))
            for v in violations[:MAX_ERRORS]
        ]

    return check
