// Code generated from CPython 3.11 with os.environ holding only FOO=bar;
// every want is repr() of CPython's result, or "error: msg".

package python

import (
	"os"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"
)

func TestOSEnviron(t *testing.T) {
	env := pyEnv(starlark.StringDict{"os": OSModule(NewEnviron(func(k string) string {
		return map[string]string{"FOO": "bar"}[k]
	}))})
	runEvalCases(t, env, []evalCase{
		{"os.environ.get('FOO')", "'bar'"},
		{"os.environ.get('NOPE')", "None"},
		{"os.environ.get('NOPE', 'dflt')", "'dflt'"},
		{"os.environ['FOO']", "'bar'"},
		{"os.environ['NOPE']", "error: KeyError: 'NOPE'"},
		{"os.getenv('FOO')", "'bar'"},
		{"os.getenv('NOPE')", "None"},
		{"os.getenv('NOPE', 'dflt')", "'dflt'"},
		{"os.getenv('NOPE', default='d2')", "'d2'"},
		{"'FOO' in os.environ", "True"},
		{"'NOPE' in os.environ", "False"},
		{"os.environ.setdefault('FOO', 'other')", "'bar'"},
		{"[os.environ.setdefault('NEW', 'v'), os.environ['NEW'], os.getenv('NEW')]", "['v', 'v', 'v']"},
	})
}

// TestDotenv follows python-dotenv's documented behaviour (it is not
// installed, so these wants come from its README and parser rules, not
// from a run): `export` prefixes; unquoted values trimmed, with " #"
// comments dropped; single quotes literal (only \' and \\ unescaped);
// double quotes with escapes, possibly over several lines; ${VAR} and
// ${VAR:-default} expanded; a bare KEY sets nothing; load_dotenv()
// keeps variables already set and expands from os.environ first, while
// override=True and dotenv_values() prefer the file's values.
func TestDotenv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	text := "# comment line\n" +
		"export EXPORTED=yes\n" +
		"PLAIN=  hello world  \n" +
		"COMMENTED=value # a comment\n" +
		"HASH=a#b\n" +
		`SQ='literal \n \'q\''` + "\n" +
		`DQ="line1\nline2\t\"q\" \\ end"` + "\n" +
		`DQC="quoted" # comment` + "\n" +
		"EMPTY=\n" +
		"REF=${PLAIN}!\n" +
		`REFDQ="<${EXPORTED}>"` + "\n" +
		"DEFAULT=${UNSET_VAR:-fallback}\n" +
		"EXISTING=from-file\n" +
		"FROMENV=${EXISTING}\n" +
		"BARE\n" +
		"MULTI=\"a\nb\"\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	newEnv := func() (*Environ, starlark.StringDict) {
		environ := NewEnviron(func(k string) string { return map[string]string{"EXISTING": "from-env"}[k] })
		return environ, pyEnv(starlark.StringDict{"os": OSModule(environ), "dotenv": DotenvModule(environ), "path": starlark.String(path)})
	}

	environ, env := newEnv()
	if got := Repr(mustEval(t, env, "dotenv.load_dotenv(path)")); got != "True" {
		t.Errorf("load_dotenv = %s, want True", got)
	}
	want := map[string]string{
		"EXPORTED":  "yes",
		"PLAIN":     "hello world",
		"COMMENTED": "value",
		"HASH":      "a#b",
		"SQ":        `literal \n 'q'`,
		"DQ":        "line1\nline2\t\"q\" \\ end",
		"DQC":       "quoted",
		"REF":       "hello world!",
		"REFDQ":     "<yes>",
		"DEFAULT":   "fallback",
		"EXISTING":  "from-env", // override=False keeps the environment's
		"FROMENV":   "from-env",
		"MULTI":     "a\nb",
	}
	for k, v := range want {
		if got, _ := environ.Lookup(k); got != v {
			t.Errorf("load_dotenv: %s = %q, want %q", k, got, v)
		}
	}
	if got := Repr(mustEval(t, env, "os.getenv('BARE')")); got != "None" {
		t.Errorf("BARE = %s, want None", got)
	}
	if got := Repr(mustEval(t, env, "os.environ.get('EMPTY')")); got != "''" && got != "None" {
		t.Errorf("EMPTY = %s", got)
	}

	environ, env = newEnv()
	mustEval(t, env, "dotenv.load_dotenv(path, override=True)")
	for k, v := range map[string]string{"EXISTING": "from-file", "FROMENV": "from-file"} {
		if got, _ := environ.Lookup(k); got != v {
			t.Errorf("load_dotenv(override=True): %s = %q, want %q", k, got, v)
		}
	}

	_, env = newEnv()
	got := Repr(mustEval(t, env, "[dotenv.dotenv_values(path)[k] for k in ('EXISTING', 'FROMENV', 'DQ')]"))
	if want := `['from-file', 'from-file', 'line1\nline2\t"q" \\ end']`; got != want {
		t.Errorf("dotenv_values = %s, want %s", got, want)
	}
}
