"""Shared helpers of the corpus's expected.py scripts: reading input.jsonl,
writing expected.jsonl, and a minimal re-implementation of Quix Streams
2.5.1 fixed-time windows. Plain Python; nothing of qstar or quixstreams."""
import json
import os


def io(here):
    """read_input() and write_output(records) for the app directory here."""
    def read_input():
        with open(os.path.join(here, "input.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def write_output(records):
        with open(os.path.join(here, "expected.jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    return read_input, write_output


# --- Minimal re-implementation of Quix Streams 2.5.1 fixed-time windows ---------
# (single partition; one windowed store per window definition)
import json as _json


def _copy(v):
    # state values go through (de)serialization; emulate with a JSON round trip
    return _json.loads(_json.dumps(v))


def window_ranges(ts, duration, step=None):
    step = step or duration
    out = []
    s = ts - ts % step
    while s > ts - duration and s >= 0:
        out.insert(0, (s, s + duration))
        s -= step
    return out


class Window:
    """kind: 'sum' | 'count' | 'mean' | 'min' | 'max' | ('reduce', reducer, initializer)"""

    def __init__(self, duration, kind, step=None, grace=0):
        self.duration, self.step, self.grace, self.kind = duration, step, grace, kind
        self.latest = 0          # per-partition latest timestamp
        self.store = {}          # key -> {(start, end): aggregated}
        self.last_expired = {}   # key -> start of the last expired window

    def _agg(self, cur, value):
        k = self.kind
        if k == "sum":
            return (0 if cur is None else cur) + value
        if k == "count":
            return (0 if cur is None else cur) + 1
        if k == "mean":
            s, c = (0.0, 0) if cur is None else cur
            return [s + value, c + 1]
        if k == "max":
            return value if cur is None else max(cur, value)
        if k == "min":
            return value if cur is None else min(cur, value)
        _, reducer, initializer = k
        return initializer(value) if cur is None else reducer(cur, value)

    def _merge(self, agg):
        if self.kind == "mean":
            return agg[0] / agg[1]
        return agg

    def process(self, key, ts, value):
        """Returns (updated_windows, expired_windows) like FixedTimeWindow.process_window."""
        if key is None:
            return [], []
        store = self.store.setdefault(key, {})
        latest_before = self.latest
        updated = []
        for start, end in window_ranges(ts, self.duration, self.step):
            if end < latest_before - self.grace + 1:
                continue  # late window, skipped
            cur = store.get((start, end))
            cur = None if cur is None else _copy(cur)
            agg = self._agg(cur, value)
            store[(start, end)] = _copy(agg)
            self.latest = max(self.latest, ts)
            updated.append({"start": start, "end": end, "value": self._merge(agg)})
        start_to = self.latest - self.duration - self.grace
        start_from = self.last_expired.get(key, -1)
        sel = sorted(w for w in store if start_from < w[0] <= start_to)
        expired = []
        for w in sel:
            expired.append({"start": w[0], "end": w[1], "value": self._merge(_copy(store.pop(w)))})
        if sel:
            self.last_expired[key] = sel[-1][0]
        return updated, expired
