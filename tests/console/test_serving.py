"""How the service serves the console: where, with which headers, and that the files ship."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.console.conftest import ConsoleServer
from tests.support import ROOT

STATIC = ROOT / "service" / "console" / "static"


def test_console_redirects_to_its_directory(console_server: ConsoleServer) -> None:
    response = httpx.get(console_server.url + "/console")
    assert response.status_code == 308
    assert httpx.URL(console_server.url + "/console").join(response.headers["location"]).path == "/console/"
    followed = httpx.get(console_server.url + "/console", follow_redirects=True)
    assert followed.status_code == 200 and "<title>Service recovery console</title>" in followed.text


@pytest.mark.parametrize(("path", "media_type"), [
    ("/console/", "text/html"), ("/console/console.css", "text/css"), ("/console/js/main.js", "text/javascript"),
    ("/console/favicon.svg", "image/svg+xml"),
])
def test_console_files_carry_security_headers(console_server: ConsoleServer, path: str, media_type: str) -> None:
    response = httpx.get(console_server.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["style-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache"


def test_an_unknown_console_file_is_a_404_problem(console_server: ConsoleServer) -> None:
    response = httpx.get(console_server.url + "/console/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_console_is_not_in_the_openapi_document(console_server: ConsoleServer) -> None:
    paths = httpx.get(console_server.url + "/openapi.json").json()["paths"]
    assert paths and not [path for path in paths if path.startswith("/console")]


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.inline.append("an inline <script>")
        if tag == "style":
            self.inline.append("a <style> element")
        self.inline += [f"{name}= on <{tag}>" for name in names if name == "style" or name.startswith("on")]
        if names.get("id"):
            self.ids.append(str(names["id"]))


def test_the_page_has_no_inline_script_or_style() -> None:
    markup = _Markup()
    markup.feed((STATIC / "index.html").read_text())
    assert markup.inline == []
    assert len(markup.ids) == len(set(markup.ids)), "duplicate ids"
    scripts = "\n".join(path.read_text() for path in (STATIC / "js").glob("*.js"))
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage.set",
                  "document.cookie"):
        assert risky not in scripts, risky


def test_the_static_files_ship_with_the_package(tmp_path: Path) -> None:
    """Build the package the way `pip install .` does and find every console file in it."""
    build = subprocess.run(
        [sys.executable, "-c", "import sys, setuptools; sys.argv = ['setup.py', '-q', 'build_py', '--build-lib', "
         f"{str(tmp_path)!r}]; setuptools.setup()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    shipped = {path.relative_to(tmp_path / "service" / "console" / "static")
               for path in (tmp_path / "service" / "console" / "static").rglob("*") if path.is_file()}
    wanted = {path.relative_to(STATIC) for path in STATIC.rglob("*") if path.is_file()}
    assert wanted and shipped == wanted
