#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: filter(row["cpu_load"] > 20) -> apply(alert payload dict with "CPU value is " + str(cpu_load))
#      -> to_topic(os.environ["output"])
import os as _os
env = {}
with open(_os.path.join(HERE, "env")) as f:
    for line in f:
        if "=" in line:
            k, v = line.strip().split("=", 1)
            env[k] = v
out = []
for rec in read_input():
    row = rec["value"]
    if not row["cpu_load"] > 20:
        continue
    v = {
        "summary": "CPU overload",
        "source": "custom_event",
        "severity": "critical",
        "custom_details": {
            "timestamp": row["timestamp"],
            "message": "CPU value is " + str(row["cpu_load"]),
        },
    }
    out.append({"topic": env["output"], "key": rec["key"], "value": v, "timestamp": rec["timestamp"]})
write_output(out)
