"""dbt policy in one place: how dbt models become Dagster assets (groups, owners, tags)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class AttnflowDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # One dbt project split over two @dbt_assets (partitioned / not): source metadata would differ between
        # them and Dagster rejects that, so it is switched off.
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_source_metadata=False))

    @staticmethod
    def layer(dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The dbt Labs layer a model lives in, from its folder (models/<layer>/...)."""
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 and fqn[1] in LAYER_GROUPS else None

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        layer = self.layer(dbt_resource_props)
        return LAYER_GROUPS[layer] if layer else super().get_group_name(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        layer = self.layer(dbt_resource_props)
        if layer:
            tags["layer"] = layer
        return tags

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]
