#!/usr/bin/env python3
"""Writes k8s/base/grafana-dashboard.yaml from docker/grafana/dashboards/mocostream.json (one source of truth)."""
from pathlib import Path

root = Path(__file__).resolve().parent.parent
dash = (root / "docker/grafana/dashboards/mocostream.json").read_text()
out = root / "k8s/base/grafana-dashboard.yaml"
header, _, _ = out.read_text().partition("  mocostream.json: |\n")
body = "\n".join("    " + line if line else "" for line in dash.rstrip("\n").split("\n"))
out.write_text(header + "  mocostream.json: |\n" + body + "\n")
