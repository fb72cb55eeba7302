package python

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// TestHashlib pins hashlib's digests against CPython's
// (hashlib.sha256(b'abc').hexdigest(), md5 with update) and its refusal
// of str.
func TestHashlib(t *testing.T) {
	env := pyEnv(starlark.StringDict{"hashlib": HashlibModule()})
	if got := Str(mustEval(t, env, `hashlib.sha256(b"abc").hexdigest()`)); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("sha256 = %s", got)
	}
	thread := &starlark.Thread{}
	h, err := starlark.Eval(thread, "t.star", `hashlib.md5(b"a")`, env)
	if err != nil {
		t.Fatal(err)
	}
	env["h"] = h
	if _, err := starlark.Eval(thread, "t.star", `h.update(b"bc")`, env); err != nil {
		t.Fatal(err)
	}
	if got := Str(mustEval(t, env, `h.hexdigest()`)); got != "900150983cd24fb0d6963f7d28e17f72" {
		t.Errorf("md5 after update = %s", got)
	}
	if _, err := starlark.Eval(thread, "t.star", `hashlib.sha256("abc")`, env); err == nil || !strings.Contains(err.Error(), "Strings must be encoded before hashing") {
		t.Errorf("sha256 of a str: %v", err)
	}
	// A global hash object is frozen with the script's globals.
	h.Freeze()
	if _, err := starlark.Eval(thread, "t.star", `h.update(b"x")`, env); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("update of a frozen hash: %v", err)
	}
}

// TestUUID4 checks uuid4()'s form: version 4, RFC 4122 variant.
func TestUUID4(t *testing.T) {
	env := pyEnv(starlark.StringDict{"uuid": UUIDModule()})
	s := Str(mustEval(t, env, `str(uuid.uuid4())`))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s) {
		t.Errorf("uuid4() = %s", s)
	}
	if a, b := Str(mustEval(t, env, `uuid.uuid4().hex`)), Str(mustEval(t, env, `uuid.uuid4().hex`)); a == b || len(a) != 32 {
		t.Errorf("uuid4().hex gave %s and %s", a, b)
	}
}

// TestTimeModule checks time.time() against the clock and time_ns()
// against time().
func TestTimeModule(t *testing.T) {
	env := pyEnv(starlark.StringDict{"time": TimeModule()})
	before := float64(time.Now().UnixNano()) / 1e9
	got, _ := starlark.AsFloat(mustEval(t, env, `time.time()`))
	after := float64(time.Now().UnixNano()) / 1e9
	if got < before || got > after {
		t.Errorf("time.time() = %f, not within [%f, %f]", got, before, after)
	}
	if ok := mustEval(t, env, `time.time_ns() // 1000000000 - int(time.time()) in (0, 1)`); ok != starlark.True {
		t.Errorf("time_ns() and time() disagree")
	}
}

// TestTypingNames checks that annotations' names resolve and index.
func TestTypingNames(t *testing.T) {
	env := pyEnv(starlark.StringDict{"typing": TypingModule()})
	if got := Str(mustEval(t, env, `typing.Dict[str, typing.Any]`)); got != "typing.Dict" {
		t.Errorf("Dict[str, Any] = %s", got)
	}
}

// TestLogging pins the logging module: WARNING until basicConfig(level=),
// %-style arguments, loggers cached by name with their own level, the
// root logger's level being the configuration, and no changes once the
// module is frozen after loading.
func TestLogging(t *testing.T) {
	type entry struct {
		level      int
		name, text string
	}
	var got []entry
	mod := LoggingModule(func(level int, name, msg string) { got = append(got, entry{level, name, msg}) })
	env := pyEnv(starlark.StringDict{"logging": mod})
	thread := &starlark.Thread{}
	run := func(src string) {
		t.Helper()
		if _, err := starlark.ExecFile(thread, "t.star", src, env); err != nil {
			t.Fatal(err)
		}
	}
	run(`
logging.info("hidden")
logging.warning("shown %s %d", "a", 1)
logging.basicConfig(level=logging.INFO)
log = logging.getLogger("app")
log.info("info %(k)s", {"k": "v"})
log.debug("hidden too")
logging.getLogger("app").setLevel(logging.ERROR)
log.warning("hidden by the logger's level")
logging.getLogger().setLevel("DEBUG")
logging.getLogger("other").debug("root level applies")
`)
	want := []entry{{30, "root", "shown a 1"}, {20, "app", "info v"}, {10, "other", "root level applies"}}
	if len(got) != len(want) {
		t.Fatalf("logged %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	mod.Freeze()
	if _, err := starlark.ExecFile(thread, "t.star", `logging.basicConfig(level=logging.DEBUG)`, env); err == nil || !strings.Contains(err.Error(), "cannot change once the script has loaded") {
		t.Errorf("basicConfig after loading: %v", err)
	}
}

// TestEnvironFrozen checks that os.environ is read-only once frozen (after
// the script loads), so callbacks on many partitions cannot race on it.
func TestEnvironFrozen(t *testing.T) {
	env := NewEnviron(func(string) string { return "" })
	mod := OSModule(env)
	predeclared := pyEnv(starlark.StringDict{"os": mod})
	thread := &starlark.Thread{}
	if _, err := starlark.ExecFile(thread, "t.star", `os.environ["A"] = "1"`, predeclared); err != nil {
		t.Fatal(err)
	}
	mod.Freeze()
	if _, err := starlark.ExecFile(thread, "t.star", `os.environ["B"] = "2"`, predeclared); err == nil || !strings.Contains(err.Error(), "cannot set B once the script has loaded") {
		t.Errorf("setting after loading: %v", err)
	}
	if v := env.Getenv("A"); v != "1" {
		t.Errorf("A = %q, want 1", v)
	}
}
