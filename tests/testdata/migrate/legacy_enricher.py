import logging
import os
from quixstreams import Application

logger = logging.getLogger(__name__)
SEEN = 0


class Enricher:
    def __init__(self, country):
        self.country = country


def enrich(value):
    global SEEN
    SEEN += 1
    try:
        value["tier"] = value["customer"]["tier"]
    except KeyError:
        value["tier"] = None
    if isinstance(value["amount"], int):
        value["amount"] = round(value["amount"] * 1.2, 2)
    return {**value, "seen": SEEN}


app = Application(broker_address=os.environ["BROKER"])
sdf = app.dataframe(app.topic("orders")).apply(enrich)

if __name__ == "__main__":
    with open("x") as f:
        pass
    app.run(sdf)
