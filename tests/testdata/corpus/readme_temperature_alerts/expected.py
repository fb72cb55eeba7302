#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: apply(lambda v: {"temperature_F": (v["temperature"] * 9/5) + 32}) -> filter temperature_F > 150
#      -> to_topic("temperature-alerts")
out = []
for rec in read_input():
    v = {"temperature_F": (rec["value"]["temperature"] * 9 / 5) + 32}
    if v["temperature_F"] > 150:
        out.append({"topic": "temperature-alerts", "key": rec["key"], "value": v, "timestamp": rec["timestamp"]})
write_output(out)
