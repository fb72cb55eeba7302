#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: filter (sum(Price*Quantity) * 1.10 >= 100.00) & (Membership Type in [Silver, Gold]),
#      add "Full Name", project ["Full Name", "Email"], to_topic("customers_coupon_qualified")
SALES_TAX = 1.10
out = []
for rec in read_input():
    v = rec["value"]
    total = sum([i["Price"] * i["Quantity"] for i in v["Purchases"]])
    # StreamingSeries "&" is Python "and" (returns an operand); the filter tests truthiness
    keep = (total * SALES_TAX >= 100.00) and (v["Membership Type"] in ["Silver", "Gold"])
    if not keep:
        continue
    v["Full Name"] = f'{v["First Name"]} {v["Last Name"]}'
    v = {"Full Name": v["Full Name"], "Email": v["Email"]}
    out.append({"topic": "customers_coupon_qualified", "key": rec["key"], "value": v, "timestamp": rec["timestamp"]})
write_output(out)
