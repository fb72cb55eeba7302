package builtins

import (
	"fmt"
	"io"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
)

// EnvSettings are the environment variables an Application reads, each
// read when the Application is created.
type EnvSettings struct {
	// ConsumerGroup is the group of an Application created without
	// consumer_group= (Quix__Consumer_Group); empty means
	// "quixstreams-default". Internal topic names depend on it.
	ConsumerGroup func() string
	// SdkToken and BrokerAddress are Quix__Sdk__Token and
	// Quix__Broker__Address: an Application given neither broker_address
	// nor quix_sdk_token uses them.
	SdkToken, BrokerAddress func() string
}

func (r *Registry) env(get func(*EnvSettings) func() string) string {
	if r.Env == nil || get(r.Env) == nil {
		return ""
	}
	return get(r.Env)()
}

// Registry collects what one script load created. It is stored on the
// loading thread with SetRegistry.
type Registry struct {
	Apps []*Application
	// Clients, when set, gives scripts Kafka clients (app.get_producer(),
	// app.get_consumer()).
	Clients Clients
	// Env reads the settings an Application takes from the environment
	// when it is created, so that a script's load_dotenv() counts. Nil
	// reads nothing.
	Env *EnvSettings
	// Connect connects an Application that has a Quix Cloud token. It is
	// nil when the script loads without running (qstar check, qstar test)
	// or runs against a broker given on the command line: the application
	// then keeps its topic and group names as written.
	Connect func(token string) (Platform, error)
	// Thread is the thread running script code that may build pipelines:
	// the loading thread, or the thread of the test function being run.
	// Operations without a thread argument (sdf["a"], sdf["x"] = ...)
	// read their script position from it.
	Thread *starlark.Thread
	// Building is true while script code builds pipelines: while the
	// script loads and while a test function runs. Rewritten comparisons
	// in function bodies build series only then (see runtime's rewrite).
	Building Flag

	// RunNow runs app's job while the script loads (app.run(count=,
	// timeout=)): until nothing arrived for idle (0: no such limit) or
	// stop is closed, every dataframe's outputs going to outputs. The
	// runtime sets it under qstar run; without it such calls run nothing.
	RunNow func(app *Application, idle time.Duration, outputs engine.Sink, stop <-chan struct{}) error

	// NewTestStores returns the stores stateful sdf.test() calls use
	// (in memory, without changelogs) and a function releasing them. The
	// runtime sets it; without it such calls fail.
	NewTestStores func() (engine.Stores, func(), error)

	// testers run sdf.test() calls, one per application, keeping their
	// state until ResetTestState.
	testers      map[*Application]*engine.Tester
	releaseTests []func()
	storeMarks   map[*Application]int
	// closers release what the script created that holds resources (a
	// lookup's connections), at Close.
	closers []func()
}

// OnClose has f run at Close.
func (r *Registry) OnClose(f func()) { r.closers = append(r.closers, f) }

// Close releases what the script created (lookups' connections): once
// the job that uses them has stopped.
func (r *Registry) Close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// BeginTest marks the start of a test function: the state stores its
// pipelines register are forgotten by ResetTestState, so that every test
// may define the same windows afresh.
func (r *Registry) BeginTest() {
	r.storeMarks = make(map[*Application]int, len(r.Apps))
	for _, a := range r.Apps {
		r.storeMarks[a] = len(a.stores)
	}
}

// ResetTestState drops the state sdf.test() calls have kept, and the
// stores registered since BeginTest: the test runner calls it after each
// test function, so each starts fresh.
func (r *Registry) ResetTestState() {
	for _, t := range r.testers {
		t.Close()
	}
	for _, release := range r.releaseTests {
		release()
	}
	r.testers, r.releaseTests = nil, nil
	for a, n := range r.storeMarks {
		a.stores = a.stores[:n]
	}
	r.storeMarks = nil
}

// tester returns the engine Tester of app's sdf.test() calls, kept (with
// its state) until ResetTestState.
func (r *Registry) tester(app *Application, stdout io.Writer) (*engine.Tester, error) {
	if t := r.testers[app]; t != nil {
		return t, nil
	}
	if r.NewTestStores == nil {
		return nil, fmt.Errorf("no state stores are available to sdf.test() here")
	}
	stores, release, err := r.NewTestStores()
	if err != nil {
		return nil, err
	}
	r.releaseTests = append(r.releaseTests, release)
	callbacks := app.Callbacks()
	t := engine.NewTester(stores, &callbacks, stdout)
	if r.testers == nil {
		r.testers = map[*Application]*engine.Tester{}
	}
	r.testers[app] = t
	return t, nil
}

// pos returns the position the script is executing at on r.Thread: for an
// index expression, the position of its "[".
func (r *Registry) pos() string {
	if r == nil || r.Thread == nil || r.Thread.CallStackDepth() == 0 {
		return ""
	}
	return r.Thread.CallFrame(0).Pos.String()
}

const registryKey = "qstar.builtins.registry"

// SetRegistry attaches r to thread, so that builtins called on it register
// what they create.
func SetRegistry(thread *starlark.Thread, r *Registry) {
	thread.SetLocal(registryKey, r)
	r.Thread = thread
}

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

func registry(thread *starlark.Thread) (*Registry, error) {
	r, ok := thread.Local(registryKey).(*Registry)
	if !ok {
		return nil, fmt.Errorf("can only be called while a script loads")
	}
	return r, nil
}

// callerPos returns where the script called the current builtin, as
// "file:line:col".
func callerPos(thread *starlark.Thread) string {
	if thread.CallStackDepth() < 2 {
		return ""
	}
	return thread.CallFrame(1).Pos.String()
}

// buildOnly returns m bound to recv while script code builds pipelines.
// Afterwards (a callback that runs on messages calling sdf.apply,
// group_by, app.topic, ...) it returns a builtin that fails naming the
// method, so that the graph the tasks run is never changed under them;
// the error's backtrace gives the line of the call.
func (r *Registry) buildOnly(m *starlark.Builtin, recv starlark.Value) starlark.Value {
	if r == nil || r.Building.on.Load() {
		return m.BindReceiver(recv)
	}
	name := m.Name()
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		// The interpreter prefixes the error with the builtin's name.
		return nil, builtAtRunError("")
	})
}

// builtAtRunError is the error of an operation that would change a
// pipeline while it runs.
func builtAtRunError(op string) error {
	if op != "" {
		op += ": "
	}
	return fmt.Errorf("%spipelines are built while the script loads, not while it runs: this is called from a function that runs on messages; move it to the top level of the script", op)
}
