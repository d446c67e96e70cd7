"""A weak IP hash salt is said out loud: the run summary and `apiwh status` warn with the public
default and with an empty IP_HASH_SALT, and stay quiet with a secret one (real `apiwh`
subprocesses on a warehouse built by `apiwh run`). `make run` makes a secret salt once per
checkout and keeps using it (the real Makefile, with stand-in `apiwh` and `python` in a scratch
venv so that it runs in a second)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from orchestration.settings import DEFAULT_IP_HASH_SALT, PROJECT_ROOT
from tests.cli_support import SECRET_SALT, month_end_run
from tests.shared_builds import copy_of
from tests.support import BuiltWarehouse, apiwh, warehouse_env

DEFAULT_WARNING = (
    "IP_HASH_SALT is the public default: client IP hashes can be reversed by brute force; "
    "set a secret salt (README Privacy)"
)
EMPTY_WARNING = (
    "IP_HASH_SALT is empty: client IP hashes can be reversed by brute force; "
    "set a secret salt (README Privacy)"
)


def with_salt(env: dict[str, str], salt: str | None) -> dict[str, str]:
    """`env` with IP_HASH_SALT set to `salt`, or not set at all (None)."""
    changed = {key: value for key, value in env.items() if key != "IP_HASH_SALT"}
    if salt is not None:
        changed["IP_HASH_SALT"] = salt
    return changed


@pytest.fixture(scope="module")
def built(shared) -> BuiltWarehouse:
    """The session's real `apiwh run` with a secret salt (tests/cli_support.py): its warnings are
    the run's own."""
    return month_end_run(shared)


def test_a_secret_salt_gives_no_warning(built: BuiltWarehouse):
    assert built.env["IP_HASH_SALT"] == SECRET_SALT
    assert "IP_HASH_SALT" not in built.run.stdout + built.run.stderr
    status = built.apiwh("status", cwd=built.root)
    assert status.returncode == 0, status.stderr
    assert "IP_HASH_SALT" not in status.stdout + status.stderr


# The public default set explicitly: unset, a checkout's .ip-hash-salt (made by `make run`) wins.
@pytest.mark.parametrize(("salt", "warning"), [(DEFAULT_IP_HASH_SALT, DEFAULT_WARNING), ("", EMPTY_WARNING)])
def test_the_default_or_an_empty_salt_warns_in_the_summary_and_in_status(built, tmp_path, salt, warning):
    root = copy_of(built.root, tmp_path / "again")  # the shared warehouse stays as built
    env = warehouse_env(root, IP_HASH_SALT=SECRET_SALT)
    run = apiwh(with_salt(env, salt), "run", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr  # accepted, with the warning
    assert "daily_refresh succeeded" in run.stdout
    assert run.stdout.splitlines()[-1] == f"  warning {warning}"

    status = apiwh(with_salt(env, salt), "status", cwd=root)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == f"Warning: {warning}"


# ----------------------------------------------------------------------------- make run


STAND_IN_APIWH = "apiwh $1 salt=${IP_HASH_SALT-unset} settle=${LANDING_SETTLE_SECONDS-unset}"


def make_run(tmp_path: Path, **env_changes: str | None) -> list[str]:
    """`make run` of the project's Makefile, with a scratch venv whose `apiwh` prints the salt
    and settle window it was given and whose `python` does nothing (no dbt parse)."""
    venv = tmp_path / "venv"
    if not venv.exists():
        (venv / "bin").mkdir(parents=True)
        (venv / ".installed").touch()  # newer than pyproject.toml: nothing to install
        scripts = {
            "apiwh": f'#!/bin/sh\necho "{STAND_IN_APIWH}"\n',
            "python": "#!/bin/sh\nexit 0\n",
        }
        for name, text in scripts.items():
            (venv / "bin" / name).write_text(text)
            (venv / "bin" / name).chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("IP_HASH_SALT", "RAW_DATA_DIR", "LANDING_SETTLE_SECONDS", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    env.update({key: value for key, value in env_changes.items() if value is not None})
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(PROJECT_ROOT),
            "run",
            f"VENV={venv}",
            f"DAGSTER_HOME={tmp_path / 'dagster_home'}",
            f"IP_SALT_FILE={tmp_path / 'checkout' / '.ip-hash-salt'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("apiwh run ")]


def test_make_run_makes_a_secret_salt_once_and_keeps_using_it(tmp_path):
    salt_file = tmp_path / "checkout" / ".ip-hash-salt"
    (tmp_path / "checkout").mkdir()

    [first] = make_run(tmp_path)
    salt = salt_file.read_text().strip()
    assert len(salt) == 64 and set(salt) <= set("0123456789abcdef")  # 32 random bytes as hex
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    # make sets nothing else: on the sample apiwh itself waits for no settle window
    # (tests/unit/test_settings_defaults.py).
    assert first == f"apiwh run salt={salt} settle=unset"

    [again] = make_run(tmp_path)
    assert again == first
    assert salt_file.read_text().strip() == salt

    # A salt or a landing folder of your own wins.
    assert make_run(tmp_path, IP_HASH_SALT="mine") == ["apiwh run salt=mine settle=unset"]
    assert make_run(tmp_path, RAW_DATA_DIR=str(tmp_path)) == [f"apiwh run salt={salt} settle=unset"]
    assert make_run(tmp_path, LANDING_SETTLE_SECONDS="5") == [f"apiwh run salt={salt} settle=5"]


def test_the_salt_file_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".ip-hash-salt"], cwd=PROJECT_ROOT, capture_output=True, timeout=30
    )
    assert ignored.returncode == 0
