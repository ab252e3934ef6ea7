"""pydantic root models of the mapper's TypedDicts: a mapped record checked against the same
definitions mypy checks the mapper with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import ConfigDict, RootModel

from mappers.xdm_record import CommerceTenantFields, DeleteRecord, ProfileRecord

_T = TypeVar("_T")


class _Checked(RootModel[_T], Generic[_T]):
    # The root model carries hide_input_in_errors: a TypedDict's own config does not.
    model_config = ConfigDict(hide_input_in_errors=True, strict=True)


class ProfileRecordModel(_Checked[ProfileRecord]):
    """pydantic model of an upsert record (`ProfileRecordModel.model_validate(record)`)."""


class DeleteRecordModel(_Checked[DeleteRecord]):
    """pydantic model of a delete record."""


class TenantFieldsModel(_Checked[CommerceTenantFields]):
    """pydantic model of `_{tenant}.commerce`."""


def check_profile_record(record: Mapping[str, Any], tenant_id: str | None = None) -> None:
    """Validate an upsert record, tenant object included, against the models (raises
    `pydantic.ValidationError`, which hides the input)."""
    typed = dict(record)
    tenant = typed.pop(f"_{tenant_id}", None) if tenant_id else None
    ProfileRecordModel.model_validate(typed)
    if tenant is not None:
        if not isinstance(tenant, Mapping) or set(tenant) != {"commerce"}:
            raise ValueError("the tenant object holds exactly `commerce`")
        TenantFieldsModel.model_validate(tenant["commerce"])
