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

# app: apply(expand_values_to_columns (a generator), expand=True)
#      -> hopping_window(5000, 250).reduce(lambda state, row: {**state, **row}, lambda row: row).final()
#      -> apply(lambda row: {"timestamp": row["start"], **row["value"]}) -> print -> to_topic(os.environ["output"])
# Note: row["value"] also has a "timestamp" key, which overrides the window start
# (the key stays in first position).


def expand_values_to_columns(message):
    for row in message["payload"]:
        new_row = {
            "timestamp": row["time"],
            "sessionId": message["sessionId"],
            "deviceId": message["deviceId"],
        }
        for key in row["values"]:
            new_row[row["name"] + "-" + key] = row["values"][key]
        yield new_row


win = Window(5000, ("reduce", lambda state, row: {**state, **row}, lambda row: row), step=250)
out = []
for rec in read_input():
    for row in expand_values_to_columns(rec["value"]):
        _, expired = win.process(rec["key"], rec["timestamp"], row)
        for w in expired:
            v = {"timestamp": w["start"], **w["value"]}
            out.append({"topic": "sensor-data", "key": rec["key"], "value": v, "timestamp": w["start"]})
write_output(out)
