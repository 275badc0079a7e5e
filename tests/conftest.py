import os

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from hypothesis import HealthCheck, settings  # noqa: E402

# Kernel tests include compile time in their first example: no deadline.
settings.register_profile(
    "batterylab", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=50
)
settings.load_profile("batterylab")
