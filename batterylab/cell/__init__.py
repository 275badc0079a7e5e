"""PyBaMM-derived electro-thermal cell models (imports pybamm on first use)."""
