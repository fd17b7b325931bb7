"""Reading an identity service's error page ahead of the browser (``refusals.page_error``)."""

from __future__ import annotations

from kcc_desktop.connectors.refusals import page_error
from kcc_desktop.sandbox.registration import error_page

# Xero's page as people quote it (github.com/XeroAPI/xero-node-oauth2-app/issues/58).
XERO_PAGE = ("<html><body><h1>Sorry, something went wrong</h1><p>Go back and try again.</p>"
             "<p>If the issue continues, check out our Status Page.</p><p>Error code: 500</p>"
             "<p><strong>Error: unauthorized_client : Invalid redirect_uri</strong></p></body></html>")


def test_xeros_error_page_is_read_whatever_its_status():
    for status in (500, 200):
        assert page_error(status, XERO_PAGE) == ("unauthorized_client", "Invalid redirect_uri")


def test_the_words_come_back_as_the_page_shows_them():
    page = error_page(400, "invalid_redirect_uri", "Listed on your app's Keys & OAuth tab.", "Intuit").body.decode()
    assert page_error(400, page) == ("invalid_redirect_uri", "Listed on your app's Keys & OAuth tab.")


def test_a_login_page_is_not_an_error():
    login = ("<html><body><h1>Log in to Xero</h1><p>Email</p><p>Password</p>"
             "<p>Forgot password? Error messages appear here.</p></body></html>")
    assert page_error(200, login) is None
    assert page_error(200, "<p>invalid_scope is a word on a help page</p>") is None
