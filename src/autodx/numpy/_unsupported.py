"""The one documented list of NumPy callables autodx does not differentiate, each with its
status ("planned": not written yet; "unsupported": deliberately left out) and a one-line
reason. The dispatch error, the completeness test and the support table all read it."""

from __future__ import annotations

UNSUPPORTED: dict[str, tuple[str, str]] = {}


def _group(status: str, reason: str, names: str, module: str = "np") -> None:
    for name in names.split():
        UNSUPPORTED[f"{module}.{name}"] = (status, reason)
