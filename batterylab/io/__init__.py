"""File input and output: HDF5 results with units and provenance, atomic writes, CSV profiles."""

from .atomic import atomic_path, atomic_write_text, clean_stale
from .hdf5 import ResultsWriter, Variable, h5_name, read_results, write_results
from .results import Result, to_datatree

__all__ = ["Result", "ResultsWriter", "Variable", "atomic_path", "atomic_write_text", "clean_stale", "h5_name", "read_results", "to_datatree", "write_results"]
