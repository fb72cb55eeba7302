package engine

import (
	"io"
	"log/slog"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/windows"
	"go.starlark.net/starlark"
)

// Context is one task's processing state: its Starlark thread, the message
// being processed, and scratch space reused across messages. A Context
// belongs to one goroutine.
type Context struct {
	// Thread runs every user callback of this task.
	Thread *starlark.Thread
	// Message is the input message being processed.
	Message *record.Record
	// Row is the record a user callback is being called with; nil
	// between callbacks. message_context() reads it.
	Row *Row

	logger    *slog.Logger
	callbacks *Callbacks
	metrics   *Metrics
	producer  Producer
	stores    map[string]*taskStore // by StoreID
	stdout    io.Writer             // shared by tasks; each Write is one whole line
	buf       []byte
	out       record.Record
	row       Row // the row a Func is called with (see call)
	args1     [1]starlark.Value
	args4     [4]starlark.Value
	// The window ops' late-record callback (window.go lateFor).
	lateFn  func(windows.Late) error
	lateOp  *windowOp
	lateRow Row
}

// NewContext returns a Context whose outputs go to p and whose print
// operations write to stdout (which must accept concurrent whole-line
// writes).
func NewContext(thread *starlark.Thread, p Producer, stdout io.Writer) *Context {
	return &Context{Thread: thread, producer: p, stdout: stdout, stores: map[string]*taskStore{}, metrics: &Metrics{}}
}

// call calls fn with r. The row goes to fn from the Context rather than
// from the caller's frame: a pointer to the caller's r would move every
// row to the heap (an allocation per message per operation).
func (c *Context) call(fn Func, r Row) (starlark.Value, error) {
	saved := c.row
	c.row = r
	v, err := fn.Call(c, &c.row)
	c.row = saved
	return v, err
}

const contextKey = "qstar.engine.context"

// FromThread returns the Context running on thread, or nil outside
// processing (for example while a script loads).
func FromThread(thread *starlark.Thread) *Context {
	c, _ := thread.Local(contextKey).(*Context)
	return c
}

func (c *Context) bind() {
	if c.Thread != nil {
		c.Thread.SetLocal(contextKey, c)
	}
}

// SetLogger sets where the operations of c log warnings (late and
// key-less messages of windows). Default: nowhere.
func (c *Context) SetLogger(l *slog.Logger) { c.logger = l }

func (c *Context) log() *slog.Logger {
	if c.logger == nil {
		return discardLogger
	}
	return c.logger
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// Bind makes c the Context of thread until restore is called, which puts
// back the previous one. sdf.test() uses it to run a pipeline on the
// calling thread.
func Bind(thread *starlark.Thread, c *Context) (restore func()) {
	prev := thread.Local(contextKey)
	thread.SetLocal(contextKey, c)
	return func() { thread.SetLocal(contextKey, prev) }
}

// Logger returns where c's operations log.
func (c *Context) Logger() *slog.Logger { return c.log() }
