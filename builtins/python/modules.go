package python

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// LogFunc receives what a script logs with the logging module: the level
// (logging.INFO is 20), the logger's name and the message.
type LogFunc func(level int, name, msg string)

// Modules returns the Python modules a script may import, for one load
// (os and dotenv share env; logging writes to log): datetime, time, os,
// dotenv, collections, hashlib, uuid, logging and typing. json and math
// are predeclared and importable too.
func Modules(env *Environ, log LogFunc) map[string]starlark.Value {
	return map[string]starlark.Value{
		"datetime":    DatetimeModule(),
		"time":        TimeModule(),
		"os":          OSModule(env),
		"dotenv":      DotenvModule(env),
		"collections": CollectionsModule(),
		"hashlib":     HashlibModule(),
		"uuid":        UUIDModule(),
		"logging":     LoggingModule(log),
		"typing":      TypingModule(),
	}
}

// HashlibModule is hashlib's md5, sha1, sha256 and sha512: each takes
// bytes and returns an object with update(), digest() and hexdigest().
func HashlibModule() *starlarkstruct.Module {
	m := &starlarkstruct.Module{Name: "hashlib", Members: starlark.StringDict{}}
	for name, newHash := range map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New} {
		m.Members[name] = starlark.NewBuiltin("hashlib."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var data starlark.Value = starlark.Bytes("")
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &data); err != nil {
				return nil, err
			}
			h := &hashObject{name: name, h: newHash()}
			if err := h.write(data); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return h, nil
		})
	}
	return m
}

type hashObject struct {
	name   string
	h      hash.Hash
	frozen bool // a global hash object cannot be updated by callbacks
}

func (h *hashObject) write(data starlark.Value) error {
	if h.frozen {
		return fmt.Errorf("cannot update a frozen %s object (a global: create it inside the function)", h.name)
	}
	switch d := data.(type) {
	case starlark.Bytes:
		h.h.Write([]byte(d))
		return nil
	case starlark.String:
		return fmt.Errorf("Strings must be encoded before hashing")
	}
	return fmt.Errorf("object supporting the buffer API required, not %s", pyTypeName(data))
}

func (h *hashObject) String() string        { return "<" + h.name + " _hashlib.HASH object>" }
func (h *hashObject) Type() string          { return "_hashlib.HASH" }
func (h *hashObject) Freeze()               { h.frozen = true }
func (h *hashObject) Truth() starlark.Bool  { return true }
func (h *hashObject) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: '_hashlib.HASH'") }
func (h *hashObject) AttrNames() []string   { return []string{"digest", "hexdigest", "name", "update"} }
func (h *hashObject) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(h.name), nil
	case "update":
		return starlark.NewBuiltin(h.name+".update", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var data starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &data); err != nil {
				return nil, err
			}
			return starlark.None, h.write(data)
		}), nil
	case "digest", "hexdigest":
		return starlark.NewBuiltin(h.name+"."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			sum := h.h.Sum(nil)
			if name == "digest" {
				return starlark.Bytes(sum), nil
			}
			return starlark.String(hex.EncodeToString(sum)), nil
		}), nil
	}
	return nil, nil
}

// UUIDModule is uuid's uuid4(): a random UUID whose str() is the
// 8-4-4-4-12 hex form; it has .hex too.
func UUIDModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "uuid", Members: starlark.StringDict{
		"uuid4": starlark.NewBuiltin("uuid.uuid4", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			var u [16]byte
			if _, err := rand.Read(u[:]); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			u[6] = u[6]&0x0f | 0x40
			u[8] = u[8]&0x3f | 0x80
			return uuidValue(u), nil
		}),
	}}
}

type uuidValue [16]byte

func (u uuidValue) PyStr() string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
func (u uuidValue) PyRepr() string       { return "UUID('" + u.PyStr() + "')" }
func (u uuidValue) String() string       { return u.PyStr() }
func (u uuidValue) Type() string         { return "UUID" }
func (u uuidValue) Freeze()              {}
func (u uuidValue) Truth() starlark.Bool { return true }
func (u uuidValue) Hash() (uint32, error) {
	return uint32(u[0]) | uint32(u[1])<<8 | uint32(u[2])<<16 | uint32(u[3])<<24, nil
}
func (u uuidValue) AttrNames() []string { return []string{"hex"} }
func (u uuidValue) Attr(name string) (starlark.Value, error) {
	if name == "hex" {
		return starlark.String(hex.EncodeToString(u[:])), nil
	}
	return nil, nil
}

// Python's logging levels.
const (
	logDebug    = 10
	logInfo     = 20
	logWarning  = 30
	logError    = 40
	logCritical = 50
)

// LoggingModule is the logging module's everyday surface: getLogger(name)
// and the module-level functions debug/info/warning/error/exception/
// critical (with %-style arguments), basicConfig(level=...) setting the
// lowest level shown (WARNING until then, as in Python), and the level
// constants. Messages go to log.
func LoggingModule(log LogFunc) *starlarkstruct.Module {
	cfg := &loggingConfig{level: logWarning, loggers: map[string]*loggerValue{}}
	root := &loggerValue{name: "root", log: log, cfg: cfg}
	m := &starlarkstruct.Module{Name: "logging", Members: starlark.StringDict{
		"DEBUG": starlark.MakeInt(logDebug), "INFO": starlark.MakeInt(logInfo), "WARNING": starlark.MakeInt(logWarning),
		"WARN": starlark.MakeInt(logWarning), "ERROR": starlark.MakeInt(logError), "CRITICAL": starlark.MakeInt(logCritical),
		"FATAL": starlark.MakeInt(logCritical), "NOTSET": starlark.MakeInt(0),
		"root": root,
		"basicConfig": starlark.NewBuiltin("logging.basicConfig", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if cfg.frozen {
				return nil, fmt.Errorf("%s: the logging configuration cannot change once the script has loaded", b.Name())
			}
			for _, kv := range kwargs {
				if string(kv[0].(starlark.String)) == "level" {
					lvl, err := logLevel(kv[1])
					if err != nil {
						return nil, fmt.Errorf("%s: %w", b.Name(), err)
					}
					cfg.level = lvl
				}
			}
			return starlark.None, nil
		}),
		"getLogger": starlark.NewBuiltin("logging.getLogger", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name starlark.Value = starlark.None
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &name); err != nil {
				return nil, err
			}
			s, ok := name.(starlark.String)
			if !ok || s == "" || s == "root" {
				return root, nil
			}
			if l, ok := cfg.loggers[string(s)]; ok {
				return l, nil
			}
			l := &loggerValue{name: string(s), log: log, cfg: cfg}
			if !cfg.frozen { // a callback's getLogger() gets a fresh one
				cfg.loggers[string(s)] = l
			}
			return l, nil
		}),
	}}
	for _, fn := range []string{"debug", "info", "warning", "warn", "error", "exception", "critical", "log"} {
		v, _ := root.Attr(fn)
		m.Members[fn] = v
	}
	return m
}

// loggingConfig is one load's logging state; frozen once the script has
// loaded, so that callbacks on many partitions only read it.
type loggingConfig struct {
	level   int // the root logger's level
	loggers map[string]*loggerValue
	frozen  bool
}

func logLevel(v starlark.Value) (int, error) {
	switch v := v.(type) {
	case starlark.Int:
		n, _ := v.Int64()
		return int(n), nil
	case starlark.String:
		switch strings.ToUpper(string(v)) {
		case "DEBUG":
			return logDebug, nil
		case "INFO":
			return logInfo, nil
		case "WARNING", "WARN":
			return logWarning, nil
		case "ERROR":
			return logError, nil
		case "CRITICAL", "FATAL":
			return logCritical, nil
		}
		return 0, fmt.Errorf("Unknown level: %s", Repr(v))
	}
	return 0, fmt.Errorf("Level not an integer or a valid string: %s", Repr(v))
}

type loggerValue struct {
	name  string
	log   LogFunc
	cfg   *loggingConfig
	level int // 0: the configured level
}

func (l *loggerValue) String() string        { return "<Logger " + l.name + ">" }
func (l *loggerValue) Type() string          { return "Logger" }
func (l *loggerValue) Freeze()               { l.cfg.frozen = true }
func (l *loggerValue) Truth() starlark.Bool  { return true }
func (l *loggerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: 'Logger'") }
func (l *loggerValue) AttrNames() []string {
	return []string{"critical", "debug", "error", "exception", "info", "log", "name", "setLevel", "warn", "warning"}
}

// logMethods are the Logger methods that log, by their level.
var logMethods = map[string]int{"debug": logDebug, "info": logInfo, "warning": logWarning, "warn": logWarning,
	"error": logError, "exception": logError, "critical": logCritical}

func (l *loggerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(l.name), nil
	case "setLevel":
		return starlark.NewBuiltin("Logger.setLevel", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var lv starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &lv); err != nil {
				return nil, err
			}
			if l.cfg.frozen {
				return nil, fmt.Errorf("%s: the logging configuration cannot change once the script has loaded", b.Name())
			}
			n, err := logLevel(lv)
			if l.name == "root" {
				l.cfg.level = n
			} else {
				l.level = n
			}
			return starlark.None, err
		}), nil
	case "log":
		return starlark.NewBuiltin("Logger.log", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) < 2 {
				return nil, fmt.Errorf("%s: missing level or message", b.Name())
			}
			n, err := logLevel(args[0])
			if err != nil {
				return nil, err
			}
			return starlark.None, l.emit(n, args[1], args[2:])
		}), nil
	}
	lvl, ok := logMethods[name]
	if !ok {
		return nil, nil
	}
	return starlark.NewBuiltin("Logger."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) < 1 {
			return nil, fmt.Errorf("%s: missing message", b.Name())
		}
		return starlark.None, l.emit(lvl, args[0], args[1:])
	}), nil
}

func (l *loggerValue) emit(level int, msg starlark.Value, args starlark.Tuple) error {
	threshold := l.level
	if threshold == 0 {
		threshold = l.cfg.level
	}
	if level < threshold || l.log == nil {
		return nil
	}
	text := Str(msg)
	if len(args) > 0 {
		var a starlark.Value = args
		if len(args) == 1 {
			if _, ok := args[0].(starlark.Mapping); ok {
				a = args[0]
			}
		}
		s, err := Percent(text, a)
		if err != nil {
			return err
		}
		text = s
	}
	l.log(level, l.name, text)
	return nil
}

// TypingModule gives the names of typing that annotations use (Any,
// Dict, List, Optional, ...), so imports of them resolve; qstar migrate
// drops the annotations themselves.
func TypingModule() *starlarkstruct.Module {
	m := &starlarkstruct.Module{Name: "typing", Members: starlark.StringDict{}}
	for _, name := range []string{"Any", "Callable", "Dict", "Iterable", "Iterator", "List", "Mapping", "Optional",
		"Sequence", "Set", "Tuple", "Type", "TypedDict", "Union", "Literal"} {
		m.Members[name] = typingName(name)
	}
	return m
}

type typingName string

func (t typingName) String() string        { return "typing." + string(t) }
func (t typingName) Type() string          { return "typing" }
func (t typingName) Freeze()               {}
func (t typingName) Truth() starlark.Bool  { return true }
func (t typingName) Hash() (uint32, error) { return uint32(len(t)), nil }

// Get lets annotations such as Dict[str, Any] evaluate.
func (t typingName) Get(starlark.Value) (starlark.Value, bool, error) { return t, true, nil }
