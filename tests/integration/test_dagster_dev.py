"""`apiwh dev` starts `dagster dev` offline on 127.0.0.1 and its GraphQL API lists the assets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from orchestration.settings import PROJECT_ROOT
from tests.support import APIWH, command_of, descendants, running

ASSETS_QUERY = "{ assetNodes { assetKey { path } groupName } }"
REPOSITORIES_QUERY = (
    "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
)
RESOURCES_QUERY = """
query ($repository: String!, $location: String!) {
  allTopLevelResourceDetailsOrError(
    repositorySelector: {repositoryName: $repository, repositoryLocationName: $location}
  ) { ... on ResourceDetailsList { results { name configuredValues { key value type } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_dagster_dev_serves_the_asset_graph(pipeline_env, tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [APIWH, "dev", "--port", str(port)],  # `dagster dev` on 127.0.0.1, as `make dev` runs it
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DAGSTER_HOME": str(pipeline_env["dagster_home"]),
            "ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
            "ALERT_WEBHOOK_SECRET": "s3cret-not-for-the-ui",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, for the clean-up after a failure
    )
    try:
        # Loading parses the project first (prepare_if_dev): allow for a busy machine.
        deadline = time.monotonic() + 300
        data = None
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "dagster_dev.log").read_text()[-3000:]
            try:
                data = _graphql(port, ASSETS_QUERY)
                if data.get("data", {}).get("assetNodes"):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
        assert data and data["data"]["assetNodes"], "dagster dev did not answer in time"
        nodes = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in data["data"]["assetNodes"]}
        assert nodes["raw/events"] == "raw"
        assert nodes["staging/stg_api_requests"] == "staging"
        assert nodes["marts/customer_usage_summary"] == "marts"
        assert nodes["marts/cohort_retention"] == "marts"

        # The UI shows the settings the assets get, as resources: values, and secrets by name.
        [repository] = _graphql(port, REPOSITORIES_QUERY)["data"]["repositoriesOrError"]["nodes"]
        selector = {"repository": repository["name"], "location": repository["location"]["name"]}
        details = _graphql(port, RESOURCES_QUERY, selector)["data"]["allTopLevelResourceDetailsOrError"]
        shown = {
            resource["name"]: {v["key"]: (v["type"], v["value"]) for v in resource["configuredValues"]}
            for resource in details["results"]
        }
        assert {"warehouse", "dbt", "alert_sinks"} <= set(shown)
        assert shown["warehouse"]["warehouse_path"] == ("VALUE", json.dumps(str(pipeline_env["warehouse"])))
        assert shown["alert_sinks"]["webhook_secret"] == ("ENV_VAR", "ALERT_WEBHOOK_SECRET")

        # SIGTERM to `apiwh dev` alone stops the whole tree it started (dagster dev, the
        # webserver, the daemon, the code server) within 10 s, and frees the port.
        tree = descendants(process.pid)
        assert len(tree) >= 3, tree
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(running(pid) for pid in tree):
            time.sleep(0.1)
        left = {pid: command_of(pid) for pid in tree if running(pid)}
        assert left == {}, f"still running after 10 s: {left}"
        assert process.wait(timeout=5) == 0
        # No "superseded, use dg dev" warning at start (dg is not in the pinned Dagster).
        assert "superseded" not in (tmp_path / "dagster_dev.log").read_text()
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "the port is still served"
    finally:
        if process.poll() is None:  # a failure above: stop what is left
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
    assert process.returncode is not None
