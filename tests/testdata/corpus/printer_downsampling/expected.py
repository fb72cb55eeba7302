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

# app: filter contains("printer") -> tumbling_window(timedelta(seconds=10)).reduce(reducer, initializer).final()
#      -> apply(mean dict) -> to_topic(os.getenv("output", "downsampled-3d-printer-data-json"))


def reducer(state, value):
    state['sum_hotend_temperature'] += value['hotend_temperature']
    state['sum_bed_temperature'] += value['bed_temperature']
    state['sum_ambient_temperature'] += value['ambient_temperature']
    state['sum_fluctuated_ambient_temperature'] += value['fluctuated_ambient_temperature']
    state['sum_count'] += 1
    return state


def initializer(value):
    return {
        'sum_hotend_temperature': value['hotend_temperature'],
        'sum_bed_temperature': value['bed_temperature'],
        'sum_ambient_temperature': value['ambient_temperature'],
        'sum_fluctuated_ambient_temperature': value['fluctuated_ambient_temperature'],
        'sum_timestamp': value['timestamp'],
        'sum_original_timestamp': value['original_timestamp'],
        'sum_printer': value['printer'],
        'sum_count': 1
    }


def get_mean(row, key):
    return row["value"][key] / row["value"]["sum_count"]


win = Window(10000, ("reduce", reducer, initializer))
out = []
for rec in read_input():
    if "printer" not in rec["value"]:
        continue
    _, expired = win.process(rec["key"], rec["timestamp"], rec["value"])
    for row in expired:
        v = {
            "timestamp": row["start"],
            "mean_hotend_temperature": get_mean(row, "sum_hotend_temperature"),
            "mean_bed_temperature": get_mean(row, "sum_bed_temperature"),
            "mean_ambient_temperature": get_mean(row, "sum_ambient_temperature"),
            "mean_fluctuated_ambient_temperature": get_mean(row, "sum_fluctuated_ambient_temperature"),
            "original_timestamp": row["value"]["sum_original_timestamp"],
            "count": row["value"]["sum_count"],
            "printer": row["value"]["sum_printer"],
        }
        out.append({"topic": "downsampled-3d-printer-data-json", "key": rec["key"], "value": v, "timestamp": row["start"]})
write_output(out)
