package record

import "testing"

// TestTopicPartitionString pins the partition name every log line and
// error message uses.
func TestTopicPartitionString(t *testing.T) {
	for _, c := range []struct {
		tp   TopicPartition
		want string
	}{
		{TopicPartition{"orders", 3}, "orders[3]"},
		{TopicPartition{"", 0}, "[0]"},
	} {
		if got := c.tp.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.tp, got, c.want)
		}
	}
}
