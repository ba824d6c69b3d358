"""The alert rules and the dashboard under deploy/: valid, tested, and about real metrics."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from metric_names import EXPOSED, HISTOGRAMS

from prometheus_server import ROOT, PrometheusError, find_binary, prometheus_server

PROMETHEUS_DIR: Final = ROOT / "deploy" / "prometheus"
RULES: Final = PROMETHEUS_DIR / "caxton-alerts.yml"
RULE_TESTS: Final = PROMETHEUS_DIR / "caxton-alerts.test.yml"
EXAMPLE_CONFIG: Final = PROMETHEUS_DIR / "prometheus.yml"
DASHBOARD: Final = ROOT / "deploy" / "grafana" / "caxton-dashboard.json"
PROMTOOL_TIMEOUT_S: Final = 60.0

# A metric name of ours. The lookbehind keeps out the tail of a longer identifier such as
# my_caxton_x; `:` is allowed in metric names.
METRIC: Final = re.compile(r"(?<![\w:])(?:caxton|process)_[a-zA-Z0-9_:]*")
# Grafana's variables, replaced by what they could stand for, so that Prometheus can parse
# the queries; `label_values(selector, label)` is Grafana's, not PromQL: the selector is.
GRAFANA_VARIABLES: Final = {"$__rate_interval": "1m", "$instance": ".*", "$agent": ".*"}
LABEL_VALUES: Final = re.compile(r"^label_values\((?P<selector>.*),\s*\w+\)$")
HISTOGRAM_SERIES: Final = re.compile(r"^(?P<base>.+)_(?:bucket|sum|count)$")
# PromQL's string literals: double or single quoted with escapes, or raw in backticks.
STRING: Final = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`""")
ALERTS: Final = {
    "CaxtonMailboxNearlyFull",
    "CaxtonHighErrorRate",
    "CaxtonLatencySLO",
    "CaxtonAgentFailed",
    "CaxtonDown",
}


def promtool(*args: str, cwd: Path = ROOT) -> None:
    done = subprocess.run(
        [find_binary("promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, (
        f"promtool {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )


def metric_names(text: str) -> set[str]:
    """The caxton_/process_ metrics `text` names, histograms by their base name."""
    names = set()
    for found in METRIC.findall(text):
        series = HISTOGRAM_SERIES.match(found)
        names.add(series["base"] if series and series["base"] in HISTOGRAMS else found)
    return names


def promql_metric_names(expr: str) -> set[str]:
    """The metrics a PromQL expression reads: its string literals (label values) left out."""
    return metric_names(STRING.sub('""', expr))


def rules_text() -> str:
    """The rules file without its comments: expressions and annotations, which both name
    metrics an operator will look for."""
    lines = RULES.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_exprs(board: dict[str, Any]) -> list[str]:
    """Every PromQL the dashboard sends: panel targets, variable queries, annotations."""
    exprs = [target["expr"] for panel in panels(board) for target in panel.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            exprs.append(query["query"] if isinstance(query, dict) else query)
            exprs.append(variable.get("definition", ""))
    exprs += [a["expr"] for a in board["annotations"]["list"] if "expr" in a]
    return exprs


def test_promtool_checks_the_rules() -> None:
    promtool("check", "rules", str(RULES))


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    promtool("test", "rules", str(RULE_TESTS))


def test_the_example_config_and_the_rules_it_loads_are_valid() -> None:
    # From its directory, as the config's comment says to run it: the rules path is relative.
    promtool("check", "config", EXAMPLE_CONFIG.name, cwd=PROMETHEUS_DIR)


def test_every_alert_is_there_and_unit_tested() -> None:
    assert set(re.findall(r"- alert: (\w+)", RULES.read_text())) == ALERTS
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == ALERTS


def test_the_alert_rules_read_only_exposed_metrics() -> None:
    used = metric_names(rules_text())
    assert used, "no caxton_ metric found in the rules: is the regex still right?"
    assert used <= EXPOSED, f"not exposed by the server: {sorted(used - EXPOSED)}"


def test_the_dashboard_reads_only_exposed_metrics() -> None:
    exprs = dashboard_exprs(dashboard())
    unknown = {
        name: expr for expr in exprs for name in promql_metric_names(expr) if name not in EXPOSED
    }
    assert not unknown, f"not exposed by the server: {unknown}"


def test_the_dashboard_shows_every_exposed_metric() -> None:
    # The other direction: a metric added to EXPOSED gets a panel, so operators see it.
    used = {name for expr in dashboard_exprs(dashboard()) for name in promql_metric_names(expr)}
    assert EXPOSED - used == set(), "exposed but on no panel"


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    queries = set()
    for expr in dashboard_exprs(dashboard()):
        selector = LABEL_VALUES.match(expr)
        query = selector["selector"] if selector else expr
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        assert "$" not in query, f"a Grafana variable this test does not know: {expr}"
        queries.add(query)
    # Nothing to scrape: an empty database still parses and checks every query.
    with prometheus_server("http://127.0.0.1:9/metrics", tmp_path, rules=None) as prometheus:
        refused = {}
        for query in sorted(queries):
            try:
                prometheus.query(query)
            except PrometheusError as error:
                refused[query] = str(error)
    assert not refused, refused


def test_the_dashboard_can_be_provisioned() -> None:
    board = dashboard()
    assert board["uid"] == "caxton-overview"
    assert 39 <= board["schemaVersion"] < 42
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert "caxton_agent_messages_handled_total" in variables["agent"]["definition"]
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    # Every query goes to the chosen data source, never to one fixed uid of some Grafana.
    for panel in panels(board):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
    rows = [panel["title"] for panel in board["panels"] if panel["type"] == "row"]
    assert rows == [
        "Agents",
        "Message flow",
        "Latency",
        "Mailboxes",
        "Peak rates and spikes",
        "Errors",
        "Resources",
    ]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            "caxton_mailbox_depth / caxton_mailbox_capacity > 0.8",
            {"caxton_mailbox_depth", "caxton_mailbox_capacity"},
        ),
        (
            "histogram_quantile(0.99, sum by (le) "
            '(rate(caxton_message_latency_seconds_bucket{instance=~"$instance"}[5m])))',
            {"caxton_message_latency_seconds"},
        ),
        ("rate(process_cpu_seconds_total[1m])", {"process_cpu_seconds_total"}),
        # Not a histogram: the suffix stays, and the name is reported as it is written.
        ("rate(caxton_agents_count[1m])", {"caxton_agents_count"}),
        ('up{job="caxton"} == 0', set()),
        (r"""my_caxton_metric{label="caxton_x", other=~'process_\'y'}""", set()),
    ],
)
def test_metric_names_are_found_in_promql(expr: str, names: set[str]) -> None:
    assert promql_metric_names(expr) == names
