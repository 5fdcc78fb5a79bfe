import pytest

# The assertion helpers the test modules share report a failure as the modules themselves do.
pytest.register_assert_rewrite("tests.integration.cli_support")
