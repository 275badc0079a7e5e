"""The validation report: runs every validation case and writes HTML and HDF5."""
