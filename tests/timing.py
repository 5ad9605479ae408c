"""Timing product code inside the test run."""

import contextlib

import coverage


@contextlib.contextmanager
def untraced():
    """Pause coverage's tracer (`make test` runs with it) for a timed section: it makes Python
    two to three times slower, and a CPU-time bound is about the product's code, not the
    tracer's."""
    tracer = coverage.Coverage.current()
    if tracer is not None:
        tracer.stop()
    try:
        yield
    finally:
        if tracer is not None:
            tracer.start()
