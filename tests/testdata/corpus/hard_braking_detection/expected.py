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

# app: filter Brake notnull -> apply(row["Brake"]) -> hopping_window(1000, 200).mean().final()
#      -> update(print) -> filter value > 0.5 -> alert dict with str(datetime.fromtimestamp(start/1000))
#      -> print(json.dumps(row, indent=4)) -> to_topic(os.environ["output"])
# NOTE: datetime.fromtimestamp() uses the local time zone; this reproduction assumes TZ=UTC.
from datetime import datetime, timezone


def local_fromtimestamp(sec):
    return datetime.fromtimestamp(sec, timezone.utc).replace(tzinfo=None)


win = Window(1000, "mean", step=200)
out = []
for rec in read_input():
    b = rec["value"]["Brake"]
    if b is None:
        continue
    _, expired = win.process(rec["key"], rec["timestamp"], b)
    for row in expired:
        if not row["value"] > 0.5:
            continue
        v = {
            "Timestamp": str(local_fromtimestamp(row["start"] / 1000)),
            "Alert": {
                "Title": "Hard braking detected.",
                "Message": "For last 1 second, average braking power was " + str(row["value"]),
            },
        }
        out.append({"topic": "hard-braking", "key": rec["key"], "value": v, "timestamp": row["start"]})
write_output(out)
