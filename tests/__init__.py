"""The test suite.

Where PYTHONDONTWRITEBYTECODE is set, as on CI machines, pytest would rewrite and compile the
test modules and Hypothesis's hundred-odd modules from source in every worker on every run
(about 2 s of CPU each); let it keep what it compiled in __pycache__ (ignored by git).
"""

import sys

sys.dont_write_bytecode = False
