#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read_input():
    with open(os.path.join(HERE, "input.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_output(records):
    with open(os.path.join(HERE, "expected.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

# app: apply(lambda value: {'tempC': (value['tempF'] - 32) * 5 / 9}) -> update(print) -> to_topic('temperature-celsius')
out = []
for rec in read_input():
    v = {"tempC": (rec["value"]["tempF"] - 32) * 5 / 9}
    out.append({"topic": "temperature-celsius", "key": rec["key"], "value": v, "timestamp": rec["timestamp"]})
write_output(out)
