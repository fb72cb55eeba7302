#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)
from quixsim import Window, window_ranges  # noqa: E402
# ---------------------------------------------------------------------------------

# app: value -> data["Temperature_C"] -> hopping_window(5000, 1000).mean().current()
#      -> round(result["value"], 2) -> filter(should_alert: >= 90 returns True, else None)
#      -> to_topic("alerts"); key = message key, timestamp = window start
win = Window(5000, "mean", step=1000)
out = []
for rec in read_input():
    temp = rec["value"]["Temperature_C"]
    updated, _ = win.process(rec["key"], rec["timestamp"], temp)
    for w in updated:
        v = round(w["value"], 2)
        if v >= 90:
            out.append({"topic": "alerts", "key": rec["key"], "value": v, "timestamp": w["start"]})
write_output(out)
