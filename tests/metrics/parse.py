"""Parses a /metrics body (stdin) with prometheus_client's two parsers and
prints the families as JSON: {"openmetrics": {...}, "prometheus": {...}},
each {family: {"type": ..., "samples": [[name, labels, value], ...]}}.

The OpenMetrics parser is strict (it is the format the server declares);
the classic Prometheus text parser is what older scrapers use. Either one
raising makes this exit non-zero with the parser's message.
"""

import json
import sys

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import (
    text_string_to_metric_families as prometheus_families,
)


def as_json(families):
    out = {}
    for family in families:
        out[family.name] = {
            "type": family.type,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
    return out


def main():
    text = sys.stdin.read()
    # Classic text has no `# EOF` line; a scraper reading it as such skips
    # comments, and so does this parser.
    result = {
        "openmetrics": as_json(openmetrics_families(text)),
        "prometheus": as_json(prometheus_families(text)),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
