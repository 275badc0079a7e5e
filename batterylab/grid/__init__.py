"""Grid services shared by the applications: frequency-regulation signal, PJM performance score, revenue.

- :func:`regd_signal`, :func:`load_signal_csv`, :func:`signal_from_spec` — the regulation signal
  (synthetic RegD-like or recorded);
- :func:`performance_score` — PJM's regulation performance score (Manual 12);
- :func:`regulation_revenue`, :func:`mileage` — PJM's regulation credits (Manual 28).

Every application that offers regulation (the solid-state fast-response duty, vehicle-to-grid)
uses these, so no application imports another.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "regd_signal": ".signal",
    "load_signal_csv": ".signal",
    "signal_from_spec": ".signal",
    "performance_score": ".scoring",
    "regulation_revenue": ".revenue",
    "mileage": ".revenue",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
