"""The app tests share the UI tests' rule: no background job outlives its test."""

from tests.ui.conftest import pytest_runtest_call

__all__ = ["pytest_runtest_call"]
