"""Swap-pack rotation: battery-swap station simulator with per-pack state of health."""
