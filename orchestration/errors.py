"""Errors a user can act on. The CLI prints each as one line on stderr, never a traceback.

Exit code 2 means the command line or the environment is wrong (fix the input); exit code 1
means the input was fine but the command could not do it (unknown id, nothing built, busy file).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Expected failure with a message written for the user; `exit_code` 1 or 2."""

    exit_code = 1


class UsageError(UserError):
    """The command line or an environment variable is unusable."""

    exit_code = 2


class UnknownIdError(UsageError):
    """An id given on the command line does not exist in what was read: a bad argument (exit 2)."""

    def __init__(self, kind: str, value: str, known: Iterable[str]) -> None:
        candidates = sorted(set(known))
        close = closest(value, candidates)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif candidates:
            shown = ", ".join(candidates[:5]) + (", ..." if len(candidates) > 5 else "")
            hint = f"known: {shown}"
        else:
            hint = f"there is no {kind} in the marts yet"
        super().__init__(f"unknown {kind} {value!r}; {hint}")
        self.kind = kind
        self.value = value


def closest(value: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> list[str]:
    """The best-matching candidates (those as good as the best, give or take a little)."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, value, c).ratio(), c) for c in candidates),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not scored or scored[0][0] < cutoff:
        return []
    best = scored[0][0]
    return [c for score, c in scored[:3] if score >= best - 0.05]
