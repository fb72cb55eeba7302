package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/builtins/python"
	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/quixcloud"
)

// fileOptions lets scripts use the Python features Quix Streams apps rely
// on: reassigning globals (`sdf = sdf.apply(...)`), top-level if/for,
// while loops, sets and recursion.
var fileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// Script is a loaded script: its globals and the application it runs.
type Script struct {
	Filename string
	Globals  starlark.StringDict
	App      *builtins.Application
	// Files are the script and every file it load()ed.
	Files []string

	clients *scriptClients
	reg     *builtins.Registry // what the script created that holds resources (lookups)
	env     loadEnv            // for reloads
}

// Close releases the Kafka clients the script got from app.get_producer()
// and app.get_consumer() (flushing producers).
func (s *Script) Close() {
	if s.clients != nil {
		s.clients.Close()
	}
	if s.reg != nil {
		s.reg.Close()
	}
}

// LoadError is a script that failed to load. Error() reads
// "file:line:col: message", followed by the Starlark backtrace when the
// failure happened while the script ran.
type LoadError struct {
	Msg string
	Err error
}

func (e *LoadError) Error() string { return e.Msg }
func (e *LoadError) Unwrap() error { return e.Err }

// LoadFile reads and loads the script at path. Output of print() goes to
// stdout.
func LoadFile(path string, stdout io.Writer) (*Script, error) {
	return LoadFileWith(path, stdout, nil)
}

// LoadFileWith loads the script to run it: it gets Kafka clients
// (app.get_producer(), app.get_consumer()) connected as clients says, and
// an Application with a Quix Cloud token connects to Quix Cloud (unless
// clients.Broker is set). The caller must Close the script.
func LoadFileWith(path string, stdout io.Writer, clients *ClientOptions) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return load(path, src, stdout, clients)
}

// Load runs a script's source, recording its pipelines, and returns the
// application whose app.run() it called. Nothing is contacted: an
// Application with a Quix Cloud token keeps its names as written.
func Load(filename string, src []byte, stdout io.Writer) (*Script, error) {
	return load(filename, src, stdout, nil)
}

// loadEnv is what loading reads from outside the script: the environment,
// and the connection to Quix Cloud (nil: none).
type loadEnv struct {
	getenv  func(string) string
	connect func(token string) (builtins.Platform, error)
	log     *slog.Logger // where the logging module writes; nil: slog.Default()
}

func load(filename string, src []byte, stdout io.Writer, clientOpts *ClientOptions) (*Script, error) {
	var clients *scriptClients
	env := loadEnv{getenv: os.Getenv}
	if clientOpts == nil {
		return loadIn(filename, src, stdout, nil, env)
	}
	clients = newScriptClients(*clientOpts)
	env.getenv = clients.opts.Getenv
	env.log = clients.opts.Logger
	if clientOpts.Broker == "" {
		env.connect = quixCloudConnector(env.getenv, clients.opts.Logger)
	}
	s, err := loadIn(filename, src, stdout, clients, env)
	if err != nil {
		return nil, err
	}
	log := clients.opts.Logger
	for _, w := range s.App.Warnings() {
		log.Warn(w, "application", s.App.Pos())
	}
	if s.App.Config().QuixCloud && s.App.Platform() == nil {
		log.Warn("the application has a Quix Cloud token, but --broker is given: Quix Cloud is not used, topic and group names stay as written", "application", s.App.Pos(), "broker", clientOpts.Broker)
	}
	return s, nil
}

// reload loads a new version of s's script, in s's environment.
func (s *Script) reload(stdout io.Writer) (*Script, error) {
	src, err := os.ReadFile(s.Filename)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return loadIn(s.Filename, src, stdout, nil, s.env)
}

func loadIn(filename string, src []byte, stdout io.Writer, clients *scriptClients, env loadEnv) (*Script, error) {
	globals, reg, files, err := execScriptFiles(filename, src, stdout, builtins.Predeclared(), clients, env)
	if err != nil {
		if clients != nil {
			clients.Close()
		}
		if reg != nil {
			reg.Close()
		}
		return nil, err
	}
	var ran []*builtins.Application
	for _, app := range reg.Apps {
		if app.Run() != nil {
			ran = append(ran, app)
		}
	}
	if len(ran) == 0 {
		for _, app := range reg.Apps {
			if app.UsedClients() || app.RanNow() {
				// A script that only produces or consumes with
				// get_producer()/get_consumer(), or ran its job with
				// app.run(count=, timeout=), has done its work.
				return &Script{Filename: filename, Globals: globals, App: app, Files: files, clients: clients, reg: reg, env: env}, nil
			}
		}
	}
	fail := func(err error) (*Script, error) {
		if clients != nil {
			clients.Close()
		}
		reg.Close()
		return nil, err
	}
	switch {
	case len(reg.Apps) == 0:
		return fail(&LoadError{Msg: fmt.Sprintf("%s: the script creates no Application", filename)})
	case len(ran) == 0:
		return fail(&LoadError{Msg: fmt.Sprintf("%s: the script never calls app.run(); add app.run() after the pipeline (app created at %s)", filename, reg.Apps[0].Pos())})
	case len(ran) > 1:
		return fail(&LoadError{Msg: fmt.Sprintf("%s: app.run() is called on %d applications (at %s and %s); a script runs one", filename, len(ran), ran[0].Run().Pos, ran[1].Run().Pos)})
	}
	return &Script{Filename: filename, Globals: globals, App: ran[0], Files: files, clients: clients, reg: reg, env: env}, nil
}

// execScript compiles a script (import blanking, the comparison rewrite)
// and runs it on a new thread. The globals come back frozen. Scripts may
// load() other .star files, relative to the loading file.
func execScript(filename string, src []byte, stdout io.Writer, predeclared starlark.StringDict) (starlark.StringDict, *builtins.Registry, error) {
	g, reg, _, err := execScriptFiles(filename, src, stdout, predeclared, nil, loadEnv{getenv: os.Getenv})
	return g, reg, err
}

// execScriptFiles is execScript that also returns the files loaded, gives
// the script Kafka clients when clients is not nil, and reads env.
func execScriptFiles(filename string, src []byte, stdout io.Writer, predeclared starlark.StringDict, clients *scriptClients, env loadEnv) (starlark.StringDict, *builtins.Registry, []string, error) {
	// os.environ and load_dotenv() write over the environment for the
	// script; the Application reads its settings through them.
	environ := python.NewEnviron(env.getenv)
	reg := &builtins.Registry{
		Env: &builtins.EnvSettings{
			ConsumerGroup: func() string {
				return cmp.Or(environ.Getenv(EnvConsumerGroup), environ.Getenv(EnvConsumerGroupDocumented))
			},
			SdkToken:      func() string { return environ.Getenv(quixcloud.EnvSdkToken) },
			BrokerAddress: func() string { return environ.Getenv(EnvBrokerAddress) },
		},
		Connect:       env.connect,
		NewTestStores: func() (engine.Stores, func(), error) { return MemoryStores() },
	}
	if clients != nil {
		reg.Clients = clients
		if run := clients.opts.Run; run != nil {
			reg.RunNow = func(app *builtins.Application, idle time.Duration, outputs engine.Sink, stop <-chan struct{}) error {
				base := clients.opts.Context
				if base == nil {
					base = context.Background()
				}
				ctx, cancel := context.WithCancel(base)
				defer cancel()
				go func() {
					select {
					case <-stop:
						cancel()
					case <-ctx.Done():
					}
				}()
				o := *run
				o.Watch, o.Outputs = false, outputs
				if idle > 0 {
					o.StopWhenIdle = idle
				}
				return Run(ctx, &Script{App: app, Filename: filename}, o)
			}
		}
	}
	predeclared[builtins.BuildingName] = &reg.Building
	l := &loader{reg: reg, predeclared: predeclared, stdout: stdout, modules: map[string]*module{},
		imports: importModules(environ, predeclared, env.log)}
	reg.Building.Set(true)
	globals, err := l.exec(filename, src, nil)
	reg.Building.Set(false)
	// Callbacks run on many partitions at once: what the imported modules
	// hold (os.environ, logging levels) is read-only from here on.
	for _, m := range l.imports {
		m.Freeze()
	}
	reg.ResetTestState() // sdf.test() calls at top level
	files := []string{filename}
	for path := range l.modules {
		files = append(files, path)
	}
	sort.Strings(files[1:])
	return globals, reg, files, err
}

// loader runs a script and the files it load()s, each once.
type loader struct {
	reg         *builtins.Registry
	predeclared starlark.StringDict
	stdout      io.Writer
	modules     map[string]*module        // by cleaned path
	imports     map[string]starlark.Value // the Python modules a file may import
	stack       []string                  // files being loaded, outermost first
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

func (l *loader) exec(filename string, src []byte, parent *starlark.Thread) (starlark.StringDict, error) {
	src, bindings, err := resolveImports(filename, src, l.imports)
	if err != nil {
		return nil, &LoadError{Msg: err.Error(), Err: err}
	}
	predeclared := l.predeclared
	if len(bindings) > 0 {
		predeclared = make(starlark.StringDict, len(l.predeclared)+len(bindings))
		for k, v := range l.predeclared {
			predeclared[k] = v
		}
		for k, v := range bindings {
			predeclared[k] = v
		}
	}
	f, err := fileOptions.Parse(filename, src, 0)
	if err != nil {
		return nil, loadError(err)
	}
	pythonRewrite(f)
	rewrite(f)
	isPredeclared := func(name string) bool { return predeclared.Has(name) }
	prog, err := starlark.FileProgram(f, isPredeclared)
	if err != nil {
		return nil, loadError(err)
	}
	thread := &starlark.Thread{Name: "load " + filename, Print: printTo(l.stdout), Load: l.load}
	builtins.SetRegistry(thread, l.reg)
	if parent != nil {
		defer func() { l.reg.Thread = parent }()
	}
	l.stack = append(l.stack, filepath.Clean(filename))
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	globals, err := prog.Init(thread, predeclared)
	python.FlushPrint(thread)
	if err != nil {
		return nil, loadError(err)
	}
	globals.Freeze()
	return globals, nil
}

// load implements load("file.star", ...): the path is relative to the
// directory of the file that calls load.
func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(filepath.Dir(thread.CallFrame(0).Pos.Filename()), name)
	}
	path = filepath.Clean(path)
	if m, ok := l.modules[path]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s -> %s", strings.Join(l.stack, " -> "), path)
		}
		return m.globals, m.err
	}
	m := &module{}
	l.modules[path] = m
	src, err := os.ReadFile(path)
	if err != nil {
		m.err = fmt.Errorf("cannot load %s: %w", name, err)
	} else {
		m.globals, m.err = l.exec(path, src, thread)
	}
	m.done = true
	return m.globals, m.err
}

func printTo(w io.Writer) func(*starlark.Thread, string) {
	return func(_ *starlark.Thread, msg string) {
		_, _ = io.WriteString(w, msg+"\n")
	}
}

// loadError formats a Starlark error as "file:line:col: message".
func loadError(err error) error {
	var (
		se   syntax.Error
		list resolve.ErrorList
		ee   *starlark.EvalError
	)
	switch {
	case errors.As(err, &se):
		return &LoadError{Msg: se.Error(), Err: err}
	case errors.As(err, &list):
		msgs := make([]string, len(list))
		for i, e := range list {
			msgs[i] = e.Error()
		}
		return &LoadError{Msg: strings.Join(msgs, "\n"), Err: err}
	case errors.As(err, &ee):
		return &LoadError{Msg: EvalErrorText(ee), Err: err}
	}
	return &LoadError{Msg: err.Error(), Err: err}
}

// EvalErrorText renders a Starlark evaluation error as
// "file:line:col: message" at the innermost script frame, then the
// backtrace.
func EvalErrorText(ee *starlark.EvalError) string {
	pos := ""
	frames := 0
	for i := len(ee.CallStack) - 1; i >= 0; i-- {
		if p := ee.CallStack[i].Pos; p.Filename() != "<builtin>" && p.IsValid() {
			if pos == "" {
				pos = p.String()
			}
			frames++
		}
	}
	switch {
	case pos == "":
		return engine.Traceback(ee)
	case frames == 1:
		// A builtin called at top level: the position says it all.
		return pos + ": " + ee.Msg
	}
	return pos + ": " + ee.Msg + "\n" + engine.Traceback(ee)
}
