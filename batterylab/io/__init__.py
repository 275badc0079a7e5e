"""File input and output: HDF5 results with units and provenance, atomic writes, CSV profiles."""

from .atomic import atomic_path, atomic_write_text
from .hdf5 import Variable, h5_name, read_results, write_results

__all__ = ["Variable", "atomic_path", "atomic_write_text", "h5_name", "read_results", "write_results"]
