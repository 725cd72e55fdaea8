"""The shared Chromium of the browser tests (defined in test_phone_form, used by every module here)."""

from tests.browser.test_phone_form import browser  # noqa: F401
