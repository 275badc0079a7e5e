"""Ageing API on top of the compiled core: models, simulate, simulate_fleet."""
