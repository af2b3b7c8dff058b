"""Hypothesis profiles: CI draws the same examples on every run; `make fuzz` draws new ones.

- ``ci`` (the default, and what `make test` and `.ci/run` use): derandomised, no example database, so a
  run can only fail where the previous run failed. Each property runs its own `max_examples`.
- ``fuzz`` (`make fuzz`, ``HYPOTHESIS_PROFILE=fuzz``): random draws, ``FUZZ_SCALE`` (default 10) times the
  examples, failures saved in ``.hypothesis/`` and replayed first by the next `make fuzz`.

A failure found by `make fuzz` becomes a regression case: copy the falsifying example Hypothesis prints into
an ``@example(...)`` on the property (see `test_fuzz.py` and `test_rules_consistency.py`), fix the cause,
and the CI profile runs it on every build from then on (explicit examples run in every profile).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = int(os.environ.get("FUZZ_SCALE", "10")) if PROFILE == "fuzz" else 1

settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("fuzz", derandomize=False, print_blob=True, deadline=None,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """`count` examples in CI, `FUZZ_SCALE` times as many under `make fuzz`."""
    return count * SCALE


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
