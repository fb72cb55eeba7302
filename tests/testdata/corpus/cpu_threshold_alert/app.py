import os
from quixstreams import Application

app = Application()

input_topic = app.topic(os.environ["input"])
output_topic = app.topic(os.environ["output"])

sdf = app.dataframe(input_topic)

# Filter in all rows where CPU load is over 20.
sdf = sdf.filter(lambda row: row["cpu_load"] > 20)

# Build an alert payload
sdf = sdf.apply(lambda row: {
    "summary": "CPU overload",
    "source": "custom_event",
    "severity": "critical",
    "custom_details": {
        "timestamp": row["timestamp"],
        "message": "CPU value is " + str(row["cpu_load"])
    }
})

sdf = sdf.to_topic(output_topic)

if __name__ == "__main__":
    app.run(sdf)
