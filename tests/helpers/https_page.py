"""An https server on loopback for the sign-in hand-off page, as a user would host it, and the headless
Chromium a person's browser is played by (Debian's chromium and chromium-driver, driven by selenium).

The page is served under a real-looking host name (Intuit refuses localhost and IP addresses for
production redirect URIs); Chromium resolves that name to 127.0.0.1 and accepts the throwaway certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kcc_desktop.connectors.loopback import callback_page_path
from tests.helpers.xero_contract import on_ci

HOST = "kcc-relay.test"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = "chromedriver"


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def hosted_callback_page(folder: Path, path: str = "/kcc/callback.html") -> Iterator[str]:
    """Serves the shipped page over https; yields its address (``https://kcc-relay.test:PORT/kcc/callback.html``)."""
    page = callback_page_path().read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.split("?")[0] != path:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    cert_file, key_file = _certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"https://{HOST}:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_or_skip(environ: Mapping[str, str] = os.environ,
                     which: Callable[[str], str | None] = shutil.which) -> tuple[str, str]:
    """(chromium, chromedriver) paths. Missing: the test skips, saying how to install them; under CI
    (``CI=true``, as .ci/run sets it after installing both) it fails instead."""
    browser = next((found for name in CHROMIUM if (found := which(name))), None)
    driver = which(DRIVER)
    if browser and driver:
        return browser, driver
    missing = " and ".join(name for name, found in (("chromium", browser), (DRIVER, driver)) if not found)
    why = f"headless Chromium is not installed ({missing} not found; apt-get install chromium chromium-driver)"
    if on_ci(environ):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@contextmanager
def headless_chromium(public_page: str = "") -> Iterator[Any]:
    """A selenium WebDriver on headless Chromium that resolves the page's host name to this computer.

    ``public_page``: Chromium treats that page's server as a public address, as the user's host is, so
    its Local Network Access rules apply when the page hands the answer to 127.0.0.1 (they block a
    page's requests to this computer; a navigation, which the page uses, is allowed).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", f"--host-resolver-rules=MAP {HOST} 127.0.0.1"):
        options.add_argument(arg)
    if public_page:
        options.add_argument(f"--ip-address-space-overrides=127.0.0.1:{urlsplit(public_page).port}=public")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
