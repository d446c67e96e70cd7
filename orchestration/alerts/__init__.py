"""Quota and churn alerts: detected in SQL (marts.alert_candidates), recorded once in the
ledger marts.alerts, delivered by the deliver_alerts job to a JSON-lines file and a webhook.

Pure modules (no Dagster): config, ledger, render, signing, sinks, delivery, refresh_failure (a
failed refresh as an alert). Dagster objects: orchestration/defs/alerts.py. CLI: commands
(`apiwh alerts`). README.md describes receivers and signatures.
"""
