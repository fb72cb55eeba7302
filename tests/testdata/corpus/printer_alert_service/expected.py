#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app (main()): filter contains("timestamp") -> apply(on_forecast_received, stateful=True)
#      -> filter(row is not None) -> to_topic(os.getenv("alert_topic", "alerts"))
import hashlib
import json as _json

NO_ALERT = "no-alert"
UNDER_FORECAST = "under-forecast"
OVER_FORECAST = "over-forecast"
UNDER_NOW = "under-now"
OVER_NOW = "over-now"
low_threshold = 73
high_threshold = 75


def hash_json(json_obj):
    return hashlib.sha256(_json.dumps(json_obj, sort_keys=True).encode()).hexdigest()


class State:
    def __init__(self, d):
        self.d = d

    def get(self, k, default=None):
        # state values are stored serialized: every get returns a fresh copy
        return _json.loads(self.d[k]) if k in self.d else default

    def set(self, k, v):
        self.d[k] = _json.dumps(v)


def on_forecast_received(message, state):
    alert_status = state.get("alert_status", {"status": NO_ALERT, "parameter_name": "",
                                              "alert_temperature": 0, "timestamp": "", "message": ""})
    forecast = message["forecast"]
    if forecast <= low_threshold and not forecast >= high_threshold:
        if forecast < low_threshold and alert_status["status"] != UNDER_FORECAST:
            alert_status = {
                "status": UNDER_FORECAST,
                "parameter_name": "ambient_temperature",
                "alert_temperature": forecast,
                "timestamp": message["timestamp"],
                "message": f"'Ambient temperature' is forecasted to fall below {low_threshold}ºC at {message['timestamp']}."
            }
        elif forecast > high_threshold and alert_status["status"] != OVER_FORECAST:
            raise AssertionError("unreachable")
    else:
        alert_status = {
            "status": NO_ALERT,
            "parameter_name": "ambient_temperature",
            "timestamp": message["timestamp"],
            "message": "'Ambient temperature' is within specified parameters."
        }
    state.set("alert_status", alert_status)
    alert_hash = hash_json(alert_status)
    past_alerts = state.get("past_alerts", [])
    if past_alerts is None:
        past_alerts = []
    if (alert_hash not in past_alerts and alert_status != {} and
            alert_status['status'] in [UNDER_NOW, UNDER_FORECAST, OVER_NOW, OVER_FORECAST]):
        past_alerts.append(alert_hash)
        state.set("past_alerts", past_alerts)
        return alert_status


stores = {}
out = []
for rec in read_input():
    if "timestamp" not in rec["value"]:
        continue
    res = on_forecast_received(rec["value"], State(stores.setdefault(rec["key"], {})))
    if res is None:
        continue
    out.append({"topic": "alerts", "key": rec["key"], "value": res, "timestamp": rec["timestamp"]})
write_output(out)
