"""Phase-change thermal storage coupled to the cell's electro-thermal model.

- :mod:`~batterylab.pcm.materials`: PCMs and composites (``parameter_sets/materials/``),
  volumetric energy densities;
- :mod:`~batterylab.pcm.model`: the compiled enthalpy method (1D slab / cylindrical shell) and the
  lumped cell + PCM model, with energy ledgers;
- :mod:`~batterylab.pcm.stefan`: Neumann analytical solutions (verification);
- :mod:`~batterylab.pcm.scenarios`: cold-weather preheat and fast-charge buffering.

Nothing here imports PyBaMM at import time.
"""

from . import stefan
from .materials import Material, composite, load_material, materials_table
from .model import Boundary, shell_grid, simulate_1d, simulate_lumped, slab_grid
from .scenarios import PyBaMMCell, fast_charge, preheat

__all__ = [
    "Boundary", "Material", "PyBaMMCell", "composite", "fast_charge", "load_material", "materials_table",
    "preheat", "shell_grid", "simulate_1d", "simulate_lumped", "slab_grid", "stefan",
]
