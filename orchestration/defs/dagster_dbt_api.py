"""dagster-dbt, imported without loading dbt-core into this process: every module here takes
dagster-dbt's names from this one.

dbt runs in its own process (`apiwh-dbt`, orchestration/dbt_child.py). Still, dagster-dbt imports
dbt-core's adapter and result classes at import time when dbt-core is installed, and builds the
asset graph with dbt's selector: about 1.2 CPU seconds of every `apiwh` command that loads the
definitions, and 0.5 s more to build them. Without dbt-core it uses its own copies of the
statuses and reads the default selection (every node) straight from the manifest, the path it
keeps for the dbt Fusion engine. It still reads dbt's output as dbt-core's (it asks
`apiwh-dbt --version`), and this project opens no dbt adapter in the run's process anyway
(WarehouseDbtCliResource). The asset graph is the same either way
(tests/integration/test_definitions.py).

dbt itself stays importable afterwards: `apiwh alerts replay` runs dbt in-process.
"""

from __future__ import annotations

import sys

# dagster-dbt tells whether dbt-core is installed by importing this module (dagster_dbt/compat.py).
_DBT_CORE_PROBE = "dbt.version"


def _import_without_dbt_core() -> None:
    if "dagster_dbt" in sys.modules:
        return
    probe = sys.modules.get(_DBT_CORE_PROBE)
    sys.modules[_DBT_CORE_PROBE] = None  # type: ignore[assignment]  # makes the import fail
    try:
        import dagster_dbt  # noqa: F401
    finally:
        if probe is None:
            del sys.modules[_DBT_CORE_PROBE]
        else:
            sys.modules[_DBT_CORE_PROBE] = probe


_import_without_dbt_core()

from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets  # noqa: E402
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation  # noqa: E402

__all__ = ["DagsterDbtTranslator", "DbtCliInvocation", "DbtCliResource", "DbtProject", "dbt_assets"]
