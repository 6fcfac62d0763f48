"""A Prometheus console page as a browser shows it: Debian's Chromium, headless, renders the page
(its DOM after rendering, and a screenshot), and every figure on it (a cell with data-query and
data-value) is compared with what Prometheus's HTTP API answers for the same query at the time the
page was evaluated (data-time is the page's #eval-time)."""
import json
import math
import subprocess
import tempfile
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

# As the machine's notes advise: no sandbox as root, and none of Chromium's own network traffic.
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars"]


class Figures(HTMLParser):
    """Cells with data-query, the text each shows, and the page's evaluation time."""

    def __init__(self):
        super().__init__()
        self.figures = []   # [query, data-value, shown text]
        self.eval_time = None
        self.title = ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-query" in a:
            self.figures.append([a["data-query"], a.get("data-value"), ""])
            self._in = "figure"
        elif a.get("id") == "eval-time":
            self._in = "time"
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "figure":
            self.figures[-1][2] += data.strip()
        elif self._in == "time":
            self.eval_time = float(data.strip())
        elif self._in == "title":
            self.title += data


def chromium(args, timeout=120):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(CHROMIUM + [f"--user-data-dir={profile}"] + args, capture_output=True, text=True,
                              timeout=timeout)


def render(url, screenshot, size=(1280, 1400)):
    """The DOM Chromium built, and a PNG of the page at `size` written to `screenshot`."""
    dom = chromium(["--dump-dom", url])
    if dom.returncode != 0:
        raise AssertionError(f"chromium --dump-dom {url}: exit {dom.returncode}: {dom.stderr[-2000:]}")
    shot = chromium([f"--screenshot={screenshot}", f"--window-size={size[0]},{size[1]}", url])
    if shot.returncode != 0 or not Path(screenshot).exists():
        raise AssertionError(f"chromium --screenshot {url}: exit {shot.returncode}: {shot.stderr[-2000:]}")
    return dom.stdout


def png_size(path):
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"{path} is not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def query_at(prometheus, expr, at):
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(url, timeout=10) as r:
        answer = json.loads(r.read())
    if answer["status"] != "success":
        raise AssertionError(f"{expr}: {answer}")
    result = answer["data"]["result"]
    return [float(s["value"][1]) for s in result]


def check_figures(prometheus, dom):
    """Problems found comparing each figure with the API; and the figures."""
    page = Figures()
    page.feed(dom)
    problems = []
    if page.eval_time is None:
        problems.append("the page has no #eval-time")
        return problems, page
    if not page.figures:
        problems.append("the page shows no figures")
    for expr, value, shown in page.figures:
        api = query_at(prometheus, expr, page.eval_time)
        if value == "none":
            problems.append(f"{expr}: the page found no data")
            continue
        if len(api) != 1:
            problems.append(f"{expr}: the API answers {len(api)} series")
            continue
        if not math.isclose(float(value), api[0], rel_tol=1e-9, abs_tol=1e-9):
            problems.append(f"{expr}: the page says {value}, the API {api[0]}")
        if not math.isclose(float(shown), api[0], rel_tol=1e-3, abs_tol=1e-9):
            problems.append(f"{expr}: the page shows {shown!r}, the API says {api[0]}")
    return problems, page
