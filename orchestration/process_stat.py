"""A process's /proc/<pid>/stat, read the one careful way (Linux)."""

from __future__ import annotations

from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (the state first, then the parent's
    pid), or None when there is no such process. Other OS errors (not Linux) are raised."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    # The command name may hold spaces and parentheses: the fields start after its last ")".
    return stat[stat.rindex(")") + 2 :].split()
