package python

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Environ is a script's os.environ: the process environment (read
// through a function, so tests and callers can give another), under the
// values the script set itself (os.environ[k] = v, load_dotenv()). An
// empty variable counts as unset.
type Environ struct {
	base   func(string) string
	set    map[string]string
	frozen bool
}

var (
	_ starlark.Mapping   = (*Environ)(nil)
	_ starlark.HasSetKey = (*Environ)(nil)
	_ starlark.Container = (*Environ)(nil)
	_ starlark.HasAttrs  = (*Environ)(nil)
)

// NewEnviron returns an environment over getenv (os.Getenv when nil).
func NewEnviron(getenv func(string) string) *Environ {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Environ{base: getenv, set: map[string]string{}}
}

// Lookup returns a variable and whether it is set.
func (e *Environ) Lookup(name string) (string, bool) {
	if v, ok := e.set[name]; ok {
		return v, true
	}
	v := e.base(name)
	return v, v != ""
}

// Getenv returns a variable, "" when unset: what the rest of qstar reads
// (Quix__Broker__Address, ...), so a .env file loaded by the script
// counts as it does in Python.
func (e *Environ) Getenv(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// Set sets a variable for the script (not for the process).
func (e *Environ) Set(name, value string) error {
	if e.frozen {
		return fmt.Errorf("os.environ: cannot set %s once the script has loaded", name)
	}
	e.set[name] = value
	return nil
}

func (e *Environ) String() string        { return "environ({...})" }
func (e *Environ) Type() string          { return "os._Environ" }
func (e *Environ) Freeze()               { e.frozen = true }
func (e *Environ) Truth() starlark.Bool  { return true }
func (e *Environ) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: '_Environ'") }
func (e *Environ) AttrNames() []string   { return []string{"get", "setdefault"} }
func (e *Environ) Has(k starlark.Value) (bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return false, nil
	}
	_, found := e.Lookup(string(s))
	return found, nil
}

// Get implements starlark.Mapping: os.environ["NAME"].
func (e *Environ) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, fmt.Errorf("os.environ: keys are str, not %s", pyTypeName(k))
	}
	v, found := e.Lookup(string(s))
	if !found {
		return nil, false, fmt.Errorf("KeyError: %s: the environment variable is not set", Repr(s))
	}
	return starlark.String(v), true, nil
}

// SetKey implements starlark.HasSetKey: os.environ["NAME"] = "value".
func (e *Environ) SetKey(k, v starlark.Value) error {
	ks, ok1 := k.(starlark.String)
	vs, ok2 := v.(starlark.String)
	if !ok1 || !ok2 {
		return fmt.Errorf("os.environ: str expected, not %s", pyTypeName(v))
	}
	return e.Set(string(ks), string(vs))
}

// Attr implements starlark.HasAttrs: get(key, default=None) and
// setdefault(key, default).
func (e *Environ) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("os.environ.get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key string
			var def starlark.Value = starlark.None
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &key, &def); err != nil {
				return nil, err
			}
			if v, ok := e.Lookup(key); ok {
				return starlark.String(v), nil
			}
			return def, nil
		}), nil
	case "setdefault":
		return starlark.NewBuiltin("os.environ.setdefault", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key, def string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &key, &def); err != nil {
				return nil, err
			}
			if v, ok := e.Lookup(key); ok {
				return starlark.String(v), nil
			}
			return starlark.String(def), e.Set(key, def)
		}), nil
	}
	return nil, nil
}

// OSModule is the part of Python's os module scripts use: environ and
// getenv(key, default=None).
func OSModule(env *Environ) *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "os", Members: starlark.StringDict{
		"environ": env,
		"getenv": starlark.NewBuiltin("os.getenv", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key string
			var def starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
				return nil, err
			}
			if v, ok := env.Lookup(key); ok {
				return starlark.String(v), nil
			}
			return def, nil
		}),
	}}
}

// DotenvModule is python-dotenv: load_dotenv(dotenv_path=None,
// override=False, ...) reads KEY=VALUE lines into os.environ (without
// replacing variables already set, unless override); with no path it
// looks for .env in the script's directory and then each parent, as
// find_dotenv() does. dotenv_values(path) returns them as a dict.
func DotenvModule(env *Environ) *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "dotenv", Members: starlark.StringDict{
		"load_dotenv": starlark.NewBuiltin("dotenv.load_dotenv", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var path, stream, verbose, encoding starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
			override, interpolate := false, true
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "dotenv_path?", &path, "stream?", &stream, "verbose?", &verbose,
				"override?", &override, "interpolate?", &interpolate, "encoding?", &encoding); err != nil {
				return nil, err
			}
			file := dotenvPath(thread, path)
			if file == "" {
				return starlark.False, nil
			}
			values, err := readDotenv(file, env, override, interpolate)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			names := make([]string, 0, len(values))
			for k := range values {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				if _, set := env.Lookup(k); set && !override {
					continue
				}
				if err := env.Set(k, values[k]); err != nil {
					return nil, err
				}
			}
			return starlark.Bool(len(values) > 0), nil
		}),
		"dotenv_values": starlark.NewBuiltin("dotenv.dotenv_values", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var path starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "dotenv_path?", &path); err != nil {
				return nil, err
			}
			out := starlark.NewDict(0)
			file := dotenvPath(thread, path)
			if file == "" {
				return out, nil
			}
			// As python-dotenv's dotenv_values (override=True there):
			// ${VAR} reads the file's values before os.environ.
			values, err := readDotenv(file, env, true, true)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			for _, kv := range sortedPairs(values) {
				_ = out.SetKey(starlark.String(kv[0]), starlark.String(kv[1]))
			}
			return out, nil
		}),
		"find_dotenv": starlark.NewBuiltin("dotenv.find_dotenv", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return starlark.String(dotenvPath(thread, starlark.None)), nil
		}),
	}}
}

func sortedPairs(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// dotenvPath is the .env file to read: the given path, or the nearest
// .env from the calling script's directory up; "" when there is none.
func dotenvPath(thread *starlark.Thread, path starlark.Value) string {
	if s, ok := path.(starlark.String); ok {
		p := string(s)
		if !filepath.IsAbs(p) {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
		}
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	dir, _ := os.Getwd()
	if thread != nil && thread.CallStackDepth() > 1 {
		if f := thread.CallFrame(1).Pos.Filename(); f != "" && f != "<builtin>" {
			if abs, err := filepath.Abs(filepath.Dir(f)); err == nil {
				dir = abs
			}
		}
	}
	for {
		p := filepath.Join(dir, ".env")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var (
	dotenvKey    = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=\s*|$)`)
	dotenvInterp = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)
)

// readDotenv parses a .env file as python-dotenv does: optional
// `export`, values unquoted (inline " #" comments dropped, whitespace
// trimmed), in single quotes (literal) or double quotes (escapes, and
// both may span lines); ${NAME} and ${NAME:-default} expand in unquoted
// and double-quoted values, from the environment first unless override.
func readDotenv(path string, env *Environ, override, interpolate bool) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lineNo := 0
	for len(text) > 0 {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		lineNo++
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		m := dotenvKey.FindStringSubmatchIndex(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: cannot parse %q", path, lineNo, trimmed)
		}
		key := line[m[2]:m[3]]
		if m[4] == m[5] { // KEY alone: no value
			continue
		}
		rest := line[m[1]:]
		var value string
		expand := true
		switch {
		case strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`):
			q := rest[0]
			body := rest[1:]
			for {
				if end := closingQuote(body, q); end >= 0 {
					value = body[:end]
					break
				}
				if text == "" {
					return nil, fmt.Errorf("%s:%d: unterminated %c quote", path, lineNo, q)
				}
				var next string
				next, text, _ = strings.Cut(text, "\n")
				lineNo++
				body += "\n" + next
			}
			if q == '\'' {
				value = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(value)
				expand = false
			} else {
				value = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\r", `\"`, `"`, `\\`, `\`, `\'`, `'`).Replace(value)
			}
		default:
			value = rest
			if i := strings.Index(value, " #"); i >= 0 {
				value = value[:i]
			}
			if strings.HasPrefix(value, "#") {
				value = ""
			}
			value = strings.TrimSpace(value)
		}
		if interpolate && expand {
			value = dotenvInterp.ReplaceAllStringFunc(value, func(ref string) string {
				sm := dotenvInterp.FindStringSubmatch(ref)
				name := sm[1]
				lookupEnv := func() (string, bool) { return env.Lookup(name) }
				lookupFile := func() (string, bool) { v, ok := values[name]; return v, ok }
				first, second := lookupEnv, lookupFile
				if override {
					first, second = lookupFile, lookupEnv
				}
				if v, ok := first(); ok && v != "" {
					return v
				}
				if v, ok := second(); ok && v != "" {
					return v
				}
				return sm[3]
			})
		}
		values[key] = value
	}
	return values, nil
}

// closingQuote finds the unescaped quote q in s, or -1.
func closingQuote(s string, q byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}
