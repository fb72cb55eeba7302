import json
from datetime import datetime, timezone, timedelta
from collections import Counter
v = 3.14159
w = 8
name = "qstar"
d = {"a": 1, "b": [1.5, None, True]}
print(f"{v:.2f}|{v=}|{name!r:>8}|{v:{w}.{2}f}|{d}|{'x'}")
def total(a: int,
          b: int = 2) -> int:
    return a + b
print(total(1), 0 < total(1) < 10, 0 < (1 + 2) < 3)
def gen(n):
    for i in range(n):
        yield i * 2
print(list(gen(3)), {**d, "c": 3})
print("%5.1f|%-4d|%s|%r" % (2.25, 7, d, "it's"), "{:>6,.1f}".format(12345.678))
print(round(2.675, 2), round(0.125, 2), round(2.5), round(-0.4, 0), sum([0.1] * 10), isinstance(True, int))
print(json.dumps(d), json.dumps(d, indent=2, sort_keys=True))
print(Counter("abracadabra").most_common(2), b"caf\xc3\xa9".decode(), int(b"12"))
t = datetime.fromtimestamp(1700000000.5, timezone(timedelta(hours=-5)))
print(t.isoformat(), t.strftime("%Y-%m-%d %H:%M:%S %z %a %b %-d"), t + timedelta(days=30), (t - datetime(2023, 1, 1, tzinfo=timezone.utc)).days)
print("a", "b", sep="-", end="!\n")
from quixstreams import Application
app = Application()
app.run(app.dataframe(app.topic("t")))
