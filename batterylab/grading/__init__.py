"""Second-life grading: from cycler files to graded, valued and matched cells."""
