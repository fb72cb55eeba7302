"""Running spend per customer: purchases keyed by purchase id are
re-keyed by customer, and each customer's total is kept in state."""
from quixstreams import Application, State

app = Application(
    consumer_group="spend-totals",
    auto_offset_reset="earliest",
)
purchases = app.topic("purchases", value_deserializer="json")
totals = app.topic("spend-totals", value_serializer="json")


def accumulate(purchase: dict, state: State) -> dict:
    total = state.get("total", 0) + purchase["amount"]
    state.set("total", total)
    if purchase.get("coupon") is not None:
        state.set("last_coupon", purchase["coupon"])
    return {"customer": purchase["customer_id"], "total": total, "label": f"{purchase['customer_id']}: {total}"}


sdf = app.dataframe(purchases)
sdf = sdf[sdf["amount"] > 0]
sdf = sdf.group_by("customer_id")
sdf = sdf.apply(accumulate, stateful=True)
sdf = sdf.update(lambda v: print(f"{v['customer']} has spent {v['total']}"))
sdf.to_topic(totals)

if __name__ == "__main__":
    app.run(sdf)
