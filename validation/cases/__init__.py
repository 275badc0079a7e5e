"""One module per validation topic; each defines ``CASES``."""
