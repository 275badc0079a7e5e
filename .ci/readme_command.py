"""Print one of the two set-up commands from README.md (``main`` or ``test``).

The README marks them with ``<!-- main-command -->`` and ``<!-- test-command -->`` before a
fenced code block; CI runs exactly what a new user copies.
"""

import re
import sys
from pathlib import Path

which = sys.argv[1]
text = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
m = re.search(rf"<!-- {which}-command -->\s*```(?:bash|sh)?\n(.*?)```", text, re.S)
if not m:
    sys.exit(f"README.md has no <!-- {which}-command --> block")
print(" && ".join(line.strip() for line in m.group(1).strip().splitlines() if line.strip()))
