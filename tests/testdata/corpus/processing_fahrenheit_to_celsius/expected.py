#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: apply(lambda value: {'tempC': (value['tempF'] - 32) * 5 / 9}) -> update(print) -> to_topic('temperature-celsius')
out = []
for rec in read_input():
    v = {"tempC": (rec["value"]["tempF"] - 32) * 5 / 9}
    out.append({"topic": "temperature-celsius", "key": rec["key"], "value": v, "timestamp": rec["timestamp"]})
write_output(out)
