"""The dashboard as a Dagster asset: rebuilt from the published snapshot after every refresh.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import datetime as dt

import dagster as dg

from orchestration.dashboard.organizations import load_directory
from orchestration.dashboard.site import BUILT_FROM, build_site, site_inputs
from orchestration.defs.resources import WarehouseResource
from orchestration.settings import NEEDS_DUCKDB_MARTS

PUBLISHED_SNAPSHOT_KEY = dg.AssetKey(["marts", "published_snapshot"])


@dg.asset(
    key=["reports", "dashboard"],
    group_name="reports",
    deps=[PUBLISHED_SNAPSHOT_KEY],
    kinds={"html"},
    description=(
        "The static dashboard (overview, customers, quota, one page per customer, endpoints, "
        "onboarding) written from the published snapshot to <warehouse folder>/dashboard; "
        "`apiwh dashboard` serves it, or open index.html from the folder."
    ),
)
def dashboard(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    if settings.warehouse_engine == "spark":
        context.log.warning(f"dashboard skipped: it {NEEDS_DUCKDB_MARTS}")
        return dg.MaterializeResult(metadata={"skipped": f"it {NEEDS_DUCKDB_MARTS}"})
    # A refresh that published nothing new rebuilds nothing (same snapshot, same names).
    inputs = site_inputs(settings.snapshot_path, settings.organizations_file)
    stamp = settings.dashboard_dir / BUILT_FROM
    if (settings.dashboard_dir / "index.html").exists() and stamp.exists() and stamp.read_text() == inputs:
        context.log.info("snapshot and organizations file unchanged: the dashboard is up to date")
        return dg.MaterializeResult(metadata={"rebuilt": False, "path": str(settings.dashboard_dir)})
    directory = load_directory(settings.organizations_file)
    # The snapshot, never the live file: reading it needs no lock and sees one whole run.
    with warehouse.connect_snapshot() as con:
        counts = build_site(
            con,
            settings.dashboard_dir,
            directory,
            generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
    stamp.write_text(inputs)
    context.log.info(f"wrote {counts['pages']} pages to {settings.dashboard_dir}")
    # A chart the renderer could not draw leaves a note on its page; the run says so too.
    not_drawn = counts["charts_not_drawn"]
    for failure in not_drawn:
        context.log.warning(f"dashboard: {failure}")
    metadata = {
        "rebuilt": True,
        "path": dg.MetadataValue.path(str(settings.dashboard_dir / "index.html")),
        "pages": counts["pages"],
        "customer_pages": counts["customer_pages"],
        "named_organizations": len(directory),
        "charts_not_drawn": len(not_drawn),
    }
    if not_drawn:
        metadata["charts_not_drawn_detail"] = dg.MetadataValue.md("\n".join(f"- {f}" for f in not_drawn))
    return dg.MaterializeResult(metadata=metadata)
