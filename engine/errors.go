package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

// ErrCommitRetriable marks a commit refused because the group is
// rebalancing (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS): the checkpoint
// is kept and its commit retried once the rebalance settles. A Consumer
// wraps it into such errors.
var ErrCommitRetriable = errors.New("commit refused during a rebalance")

// ErrIdle is returned by Run when it stopped because no message arrived for
// Config.StopWhenIdle and everything was committed.
var ErrIdle = errors.New("engine: idle")

// DeserializeError is a message whose key or value could not be decoded.
type DeserializeError struct {
	Message *record.Record
	Part    string // "key" or "value"
	Err     error
}

func (e *DeserializeError) Error() string {
	m := e.Message
	return fmt.Sprintf("cannot deserialize the %s of the message at topic %q partition %d offset %d: %v",
		e.Part, m.Topic, m.Partition, m.Offset, e.Err)
}

func (e *DeserializeError) Unwrap() error { return e.Err }

// ProcessingError is a failure inside a pipeline operation on one message.
// Pos is where the script declared the operation ("job.star:12:6").
type ProcessingError struct {
	Topic     string
	Partition int32
	Offset    int64
	Op        string // "apply", "filter", "to_topic", ...
	Pos       string
	Err       error
}

func (e *ProcessingError) Error() string {
	var b strings.Builder
	if e.Pos != "" {
		fmt.Fprintf(&b, "%s: ", e.Pos)
	}
	fmt.Fprintf(&b, "%s failed on the message at topic %q partition %d offset %d:", e.Op, e.Topic, e.Partition, e.Offset)
	var ee *starlark.EvalError
	if errors.As(e.Err, &ee) {
		b.WriteString("\n")
		b.WriteString(Traceback(ee))
	} else {
		b.WriteString(" ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ProcessingError) Unwrap() error { return e.Err }
