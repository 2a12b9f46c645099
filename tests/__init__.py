"""fmgate's tests.

The shared harness (``tests.harness``) is imported by the root conftest before pytest registers
its modules as plugins, and its helpers assert (``tests.harness.load.assert_well_formed``...):
pytest rewrites their asserts too, so a failure there shows the values as it does in a test.
"""

import pytest

pytest.register_assert_rewrite("tests.harness")
