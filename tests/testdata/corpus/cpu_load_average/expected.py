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

# app: apply(row["cpu_load"]) -> tumbling_window(timedelta(seconds=20)).mean().final()
#      -> apply({'average-cpu-load': value['value'], 'time': value['end']}) -> print -> to_topic("average-cpu-load")
win = Window(20000, "mean")
out = []
for rec in read_input():
    _, expired = win.process(rec["key"], rec["timestamp"], rec["value"]["cpu_load"])
    for w in expired:
        v = {"average-cpu-load": w["value"], "time": w["end"]}
        out.append({"topic": "average-cpu-load", "key": rec["key"], "value": v, "timestamp": w["start"]})
write_output(out)
