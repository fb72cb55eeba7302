from datetime import timedelta

from quixstreams import Application

app = Application(consumer_group="temperature-windows", auto_offset_reset="earliest")
readings = app.topic("temperature-readings")
alerts = app.topic("temperature-alerts")


def to_celsius(reading: dict) -> float:
    return (reading["fahrenheit"] - 32) * 5 / 9


sdf = app.dataframe(readings)
sdf = sdf.apply(to_celsius)
sdf = sdf.hopping_window(duration_ms=timedelta(minutes=1), step_ms=timedelta(seconds=30)).max().final()
sdf = sdf.filter(lambda window: window["value"] > 30)
sdf = sdf.apply(lambda window: {"from": window["start"], "to": window["end"], "max_celsius": window["value"]})
sdf.to_topic(alerts)

if __name__ == "__main__":
    app.run(sdf)
