#!/usr/bin/env python3
"""Hand-written reproduction of app.py (no quixstreams). Reads input.jsonl, writes expected.jsonl."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import quixsim  # noqa: E402  (tests/testdata/corpus/quixsim.py)

read_input, write_output = quixsim.io(HERE)

# app: apply(tokenize_and_count, expand=True) -> filter(should_skip) ->
#      to_topic("product_review_word_counts", key=lambda pair: pair[0])
# Each output value is a (word, count) tuple, serialized by the JSON serializer as an array.
from collections import Counter

STOP = ["i", "a", "we", "it", "is", "and", "or", "the"]
out = []
for rec in read_input():
    text = rec["value"]
    for word, count in list(Counter(text.lower().replace(".", " ").split()).items()):
        if word in STOP:
            continue
        out.append({"topic": "product_review_word_counts", "key": word, "value": [word, count], "timestamp": rec["timestamp"]})
write_output(out)
