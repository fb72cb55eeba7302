#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: filter (account_class == "Gold") & (abs(transaction_amount) >= 1000) -> project 3 columns ->
#      total_transactions = per-key stateful counter -> upper-case transaction_source ->
#      constant column customer_notification -> print -> to_topic("json__user_notifications")
state = {}  # message key -> {"total_transactions": n}
out = []
for rec in read_input():
    v = rec["value"]
    if not ((v["account_class"] == "Gold") and (abs(v["transaction_amount"]) >= 1000)):
        continue
    v = {k: v[k] for k in ["account_id", "transaction_amount", "transaction_source"]}
    st = state.setdefault(rec["key"], {})
    total = st.get("total_transactions", 0) + 1
    st["total_transactions"] = total
    v["total_transactions"] = total
    v["transaction_source"] = v["transaction_source"].upper()
    v["customer_notification"] = "A high cost purchase was attempted"
    # to_topic forwards the input headers
    out.append({"topic": "json__user_notifications", "key": rec["key"], "value": v,
                "timestamp": rec["timestamp"], "headers": rec.get("headers")})
write_output(out)
