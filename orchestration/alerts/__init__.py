"""Alerts: detected in SQL (marts.alert_candidates), recorded once in the ledger marts.alerts,
delivered by the deliver_alerts job to a JSON-lines file and a webhook, or by ALERT_ROUTES_FILE
to named destinations (webhook, Slack, email, PagerDuty); daily and weekly digests ride the same
ledger.

Pure modules (no Dagster): config, ledger, render, signing, sinks, routes, email, pagerduty,
delivery, refresh_failure (a failed refresh as an alert), digests and digest_render, replay.
Dagster objects: orchestration/defs/alerts.py and defs/digests.py. CLI: commands (`apiwh
alerts`, `apiwh alerts replay`), digest_commands (`apiwh digest`). README.md describes routes,
receivers, signatures and digests.
"""
