"""The HTML report of a small real run, opened in Debian's real headless Chromium.

Builds nothing itself beyond what ci/test built (CROSSLOAD_BIN, or build/crossload): runs
`crossload run` on a tiny matrix with the host venv, then drives Chromium through the DevTools
protocol over a pipe (--remote-debugging-pipe: stdlib only, no driver, no network), checks that
the heatmap, the charts and the filled guide table render, that clicking a square opens its
details, that the console stayed clean, and keeps a screenshot beside the binary under
test-artifacts/. JUnit and the golden files are parsed as XML on the way.
"""
import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("CROSSLOAD_BIN", str(ROOT / "build" / "crossload")))
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = BIN.parent / "test-artifacts"
FORMATS = ["pickle-p5", "joblib", "cloudpickle", "skops", "onnx"]
FIXTURES = ["iris_decision_tree_classifier", "iris_logistic_regression", "lambda_pipeline"]


def write_matrix(tmp):
    """host produces and consumes; `gone` is a consumer that cannot start: one failing column."""
    path = tmp / "m.toml"
    path.write_text(f"""
[matrix]
name = "browser"
fixtures = {json.dumps(FIXTURES)}
formats = {json.dumps(FORMATS)}
producers = ["host"]
consumers = ["host", "gone"]

[env.host]
provider = "host"
python = "{VENV_PYTHON}"

[env.gone]
provider = "host"
python = "/nonexistent/python3"
""")
    return path


def crossload(*args, timeout=1200):
    proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"crossload {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    if not BIN.exists():
        pytest.fail(f"{BIN} not built: run ci/test, or ninja -C build, first")
    tmp = tmp_path_factory.mktemp("html")
    out = tmp / "out"
    crossload("run", "--matrix", write_matrix(tmp), "--out", out, "--report", "md,json,html,junit", "-q")
    return out


# ---- Chromium over the DevTools pipe ----

class Chromium:
    """One headless Chromium; CDP messages are NUL-terminated JSON on fds 3 (in) and 4 (out)."""

    def __init__(self, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds():  # in the child: the pipe ends become fds 3 and 4, whatever they were
            r, w = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)  # dup2 onto itself would have kept close-on-exec
            os.set_inheritable(4, True)

        self.log = open(Path(profile) / "chromium.log", "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            close_fds=False, preexec_fn=wire_fds, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._messages = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def send(self, method, params=None, session=None, timeout=60):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._messages.get(timeout=max(0.1, deadline - time.time()))
            assert reply is not None, "chromium closed the DevTools pipe"
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.time() < deadline:
            message = self._messages.get(timeout=max(0.1, deadline - time.time()))
            assert message is not None, "chromium closed the DevTools pipe"
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # already gone: fall through to the kill
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        self.log.close()


def console_errors(events):
    """Exceptions, console.error/assert and browser log errors, as readable lines."""
    errors = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            errors.append(f"console.{params['type']}: " + json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            errors.append("log: " + json.dumps(params["entry"])[:500])
    return errors


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (ci/setup installs Debian's chromium package)")
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def open_page(browser, path):
    """`path` loaded in a fresh tab, with the console and exceptions being recorded."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
    browser.events.clear()
    browser.send("Page.navigate", {"url": path.as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired")

    def evaluate(expression):
        result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    return browser, session, evaluate


@pytest.fixture(scope="module")
def page(browser, run_out):
    return open_page(browser, run_out / "report.html")


# ---- the checks ----

def test_report_files_are_written(run_out):
    for name in ["report.md", "results.json", "report.html", "junit.xml"]:
        assert (run_out / name).stat().st_size > 0, name


def test_report_command_renders_html_and_junit_from_the_store(run_out, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    crossload("report", "--store", run_out / "results.db", "--out", again, "--report", "html,junit")
    cells = len(json.loads((run_out / "results.json").read_text())["cells"])
    assert f'<span id="cells-run">{cells}</span> cells run' in (again / "report.html").read_text()
    assert int(ET.parse(again / "junit.xml").getroot().get("tests")) == cells


def test_script_ran_and_heatmap_rendered(page):
    _, _, evaluate = page
    assert evaluate("document.documentElement.dataset.script") == "ready"
    per_format = evaluate("[...document.querySelectorAll('figure.heatmap')].map(f => f.dataset.format)")
    assert sorted(per_format) == sorted(FORMATS)
    squares = evaluate("""[...document.querySelectorAll('td.hm')].map(td => {
        const r = td.getBoundingClientRect();
        return {worst: td.dataset.worst, title: td.dataset.title, share: td.dataset.share, w: r.width, h: r.height,
                bg: getComputedStyle(td).backgroundColor, bgImage: getComputedStyle(td).backgroundImage,
                text: td.innerText};
    })""")
    assert len(squares) == len(FORMATS) * 2  # one producer x two consumers
    assert all(s["w"] > 0 and s["h"] > 0 for s in squares)
    gone = [s for s in squares if s["title"].endswith("host → gone")]
    assert gone and all(s["worst"] == "ENV_UNAVAILABLE" for s in gone)
    # Never ran: its own hatched state, not a share.
    assert all(s["share"] == "" and "gradient" in s["bgImage"] for s in gone)
    # Colour follows the share that loaded, over what the format can hold: joblib cannot hold the
    # lambda pipeline (UNSUPPORTED) and loaded the rest, so its square is green, not grey.
    joblib_host = next(s for s in squares if s["title"] == "joblib: host → host")
    assert joblib_host["worst"] == "UNSUPPORTED" and joblib_host["share"] == "1.000", joblib_host
    assert joblib_host["text"].startswith("2/2") and "1 UNSUPPORTED" in joblib_host["text"]
    red, green, blue = (int(v) for v in joblib_host["bg"][4:-1].split(", ")[:3])
    assert green > red and green > blue, joblib_host["bg"]
    assert len({s["bg"] for s in squares}) >= 2


def test_report_opens_with_the_matrix_then_the_causes(page):
    _, _, evaluate = page
    order = evaluate("[...document.querySelectorAll('body > section')].map(s => s.id)")
    assert order.index("compatibility") < order.index("causes") < order.index("charts"), order
    assert order[:3] == ["summary", "compatibility", "causes"], order
    causes = evaluate("""[...document.querySelectorAll('#causes-table tr[data-cause]')].map(tr => ({
        id: tr.dataset.cause, cells: parseInt(tr.querySelector('td').textContent), text: tr.textContent,
        h: tr.getBoundingClientRect().height}))""")
    ids = [c["id"] for c in causes]
    assert "unclassified" not in ids, causes  # every non-OK cell of this run has a cause
    assert {"pickle-cannot-hold-local-function", "env-unavailable"} <= set(ids), ids
    gone = next(c for c in causes if c["id"] == "env-unavailable")
    # Every fixture the formats could hold, in the consumer that never started.
    assert gone["cells"] >= 2 * len(FORMATS) and "host → gone" in gone["text"], gone
    assert all(c["h"] > 0 for c in causes)


def test_clicking_a_square_opens_its_details(page):
    _, _, evaluate = page
    assert evaluate("document.getElementById('details-panel').hidden") is True
    details = evaluate("""(() => {
        const td = [...document.querySelectorAll('td.hm')].find(t => t.dataset.title === 'pickle-p5: host → host');
        td.click();
        const panel = document.getElementById('details-panel');
        return {hidden: panel.hidden, height: panel.getBoundingClientRect().height,
                title: document.getElementById('details-title').textContent,
                cells: [...panel.querySelectorAll('article.cell')].map(a => a.dataset.cell),
                text: panel.innerText};
    })()""")
    assert details["hidden"] is False and details["height"] > 0
    assert details["title"] == "pickle-p5: host → host"
    assert sorted(details["cells"]) == sorted(f"{f}/pickle-p5/host/host" for f in FIXTURES)
    assert details["cells"][0] == "lambda_pipeline/pickle-p5/host/host"  # worst first
    assert "sha256" in details["text"] and "CV score" in details["text"]  # manifest facts


def test_charts_are_drawn(page):
    _, _, evaluate = page
    charts = evaluate("""[...document.querySelectorAll('figure.chart-figure')].map(f => ({
        measure: f.dataset.measure,
        bars: [...f.querySelectorAll('rect')].filter(r => r.getBoundingClientRect().width > 0).length,
        height: f.querySelector('svg').getBoundingClientRect().height}))""")
    measures = {c["measure"] for c in charts}
    assert {"load", "size", "rss_peak"} <= measures
    for c in charts:
        assert c["bars"] >= len(FORMATS) and c["height"] > 50, c


def test_guide_table_is_filled_with_this_runs_evidence(page):
    _, _, evaluate = page
    rows = evaluate("""[...document.querySelectorAll('#guide-table tbody tr')].map(tr => ({
        method: tr.querySelector('th').textContent, filled: tr.classList.contains('filled'),
        evidence: tr.querySelectorAll('ul.evidence li').length, text: tr.innerText}))""")
    assert [r["method"] for r in rows] == ["ONNX", "skops.io", "joblib", "pickle", "cloudpickle"]
    assert all(r["filled"] and r["evidence"] >= 2 for r in rows), rows
    skops = next(r for r in rows if r["method"] == "skops.io")
    assert "trust" in skops["text"]  # untrusted types recorded by the manifest, or none needed
    onnx = next(r for r in rows if r["method"] == "ONNX")
    assert "fidelity" in onnx["text"]
    pickle = next(r for r in rows if r["method"] == "pickle")
    assert "could not persist lambda_pipeline" in pickle["text"]
    assert "median load" in pickle["text"]


def test_console_shows_no_error_and_screenshot_is_kept(page):
    browser, session, evaluate = page
    height = evaluate("document.documentElement.scrollHeight")
    shot = browser.send("Page.captureScreenshot",
                        {"format": "png", "captureBeyondViewport": True,
                         "clip": {"x": 0, "y": 0, "width": 1280, "height": min(height, 6000), "scale": 1}},
                        session=session)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "report.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert console_errors(browser.events) == []


# ---- the aggregated page of a run above the whole-page limit ----

AGGREGATED_CELLS = 20_500  # above HtmlReporter::kWholePageCells (20,000)


def test_aggregated_page_of_a_large_stored_run_loads_without_errors(browser, tmp_path):
    if not BIN.exists():
        pytest.fail(f"{BIN} not built")
    store = tmp_path / "large.db"
    subprocess.run([str(VENV_PYTHON), str(ROOT / "ci" / "simulate-store"), "--crossload", str(BIN), "--out", str(store),
                    "--cells", str(AGGREGATED_CELLS)], check=True, capture_output=True, timeout=600)
    crossload("report", "--store", store, "--out", tmp_path / "out", "--report", "html")
    html = tmp_path / "out" / "report.html"
    browser.events.clear()
    _, _, evaluate = open_page(browser, html)
    assert evaluate("document.documentElement.getAttribute('data-script')") == "ready"
    assert evaluate("document.getElementById('cells-run').textContent") == str(AGGREGATED_CELLS)
    assert "cells themselves are in results.json" in evaluate("document.getElementById('aggregated-notice').textContent")
    squares = evaluate("""Array.from(document.querySelectorAll('td.hm')).map(function (td) {
        return td.getAttribute('title').split(', ').reduce(function (n, part) { return n + parseInt(part, 10); }, 0);
    })""")
    assert sum(squares) == AGGREGATED_CELLS  # every cell counted in exactly one square
    assert evaluate("document.querySelectorAll('[data-details], article.cell').length") == 0
    assert evaluate("document.querySelectorAll('#causes-table tr[data-cause]').length") > 0
    assert evaluate("document.querySelectorAll('figure.chart-figure svg g.bar').length") > 0  # medians drawn
    assert console_errors(browser.events) == []


# ---- XML that CI systems and the goldens must parse ----

def test_junit_xml_parses_and_maps_outcomes(run_out):
    root = ET.parse(run_out / "junit.xml").getroot()
    results = {c["id"]: c["outcome"] for c in json.loads((run_out / "results.json").read_text())["cells"]}
    assert root.tag == "testsuites" and int(root.get("tests")) == len(results)
    assert {s.get("name") for s in root.findall("testsuite")} == {"host → host", "host → gone"}
    for suite in root.findall("testsuite"):
        producer, consumer = suite.get("name").split(" → ")
        for case in suite.findall("testcase"):
            fixture, fmt = case.get("name").split("/")
            outcome = results[f"{fixture}/{fmt}/{producer}/{consumer}"]
            kind = "failure" if case.find("failure") is not None else "skipped" if case.find("skipped") is not None else "pass"
            expected = ("failure" if outcome in ("MISMATCH", "LOAD_ERROR", "PREDICT_ERROR", "CRASH", "TIMEOUT") else
                        "skipped" if outcome in ("UNSUPPORTED", "ENV_UNAVAILABLE", "BLOCKED", "XFAIL") else "pass")
            assert kind == expected, (case.get("name"), outcome)


@pytest.mark.parametrize("name", ["sample.junit.xml", "empty.junit.xml", "sample.html", "failures_only.html", "empty.html"])
def test_golden_reports_are_well_formed(name):
    """The goldens hold hostile text (control bytes, a cut UTF-8 character): they must still parse."""
    text = (ROOT / "reports" / "testdata" / name).read_bytes()
    if name.endswith(".xml"):
        ET.fromstring(text)
    else:
        text.decode("utf-8")  # valid UTF-8 throughout
        assert b"\x01" not in text
