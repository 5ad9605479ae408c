"""Helpers shared by the tests of the CSV readers (contacts.csv_bytes, contacts.csv_text,
contacts.linkedin_csv, campaigns.messages_csv): memory measurement and property-test settings."""

import tracemalloc
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

MB = 1024 * 1024


def peak_memory(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """Call function(*args, **kwargs); return its result and the peak memory it allocated, in
    bytes (what tracemalloc sees: Python objects, not the interpreter's own)."""
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def property_settings(max_examples: int = 150) -> settings:
    """Hypothesis settings for the readers' property tests: no deadline (a shared machine is
    noisy), no example database (no .hypothesis folder in the project)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


PROPERTY = property_settings()


def assert_one_line_reason(exc: Exception) -> None:
    """A refusal is shown to the user as is: one non-empty line."""
    message = str(exc)
    assert message and "\n" not in message
