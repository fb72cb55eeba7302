// Code generated from CPython 3.11 (python3 -c ...); every want is what
// CPython printed for the same expression. Error wants hold CPython's
// message, which qstar's error must contain.

package python

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// pyEnv is the predeclared environment for test expressions: qstar's
// Python builtins over Starlark's universe, plus extra modules.
func pyEnv(extra ...starlark.StringDict) starlark.StringDict {
	env := starlark.StringDict{}
	for k, v := range Builtins() {
		env[k] = v
	}
	for _, e := range extra {
		for k, v := range e {
			env[k] = v
		}
	}
	return env
}

// mustEval evaluates a Starlark expression.
func mustEval(t *testing.T, env starlark.StringDict, expr string) starlark.Value {
	t.Helper()
	v, err := starlark.Eval(&starlark.Thread{}, "t.star", expr, env)
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// check compares a result with CPython's: want is the value, or
// "error: msg" when CPython raised msg (then err must contain msg).
func check(t *testing.T, label, got string, err error, want string) {
	t.Helper()
	if msg, isErr := strings.CutPrefix(want, "error: "); isErr {
		if err == nil {
			t.Errorf("%s = %q, want error %q", label, got, msg)
		} else if !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %q, want one containing %q", label, err, msg)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: unexpected error %v (want %q)", label, err, want)
	} else if got != want {
		t.Errorf("%s = %q, want %q", label, got, want)
	}
}

// kwargsOf turns a Starlark dict into keyword arguments.
func kwargsOf(v starlark.Value) []starlark.Tuple {
	var kw []starlark.Tuple
	for _, kv := range v.(*starlark.Dict).Items() {
		kw = append(kw, starlark.Tuple{kv[0], kv[1]})
	}
	return kw
}

func TestRepr(t *testing.T) {
	env := pyEnv()
	for _, tc := range []struct{ expr, want string }{
		{"0.1", "0.1"},
		{"1e16", "1e+16"},
		{"1e-05", "1e-05"},
		{"1234567.0", "1234567.0"},
		{"1e22", "1e+22"},
		{"5e-324", "5e-324"},
		{"float('nan')", "nan"},
		{"float('inf')", "inf"},
		{"-float('inf')", "-inf"},
		{"-0.0", "-0.0"},
		{"0.0", "0.0"},
		{"1.5e-7", "1.5e-07"},
		{"123456789012345678.0", "1.2345678901234568e+17"},
		{"1e15", "1000000000000000.0"},
		{"9999999999999998.0", "9999999999999998.0"},
		{"0.0001", "0.0001"},
		{"2.5", "2.5"},
		{"\"it's\"", "\"it's\""},
		{"'say \"hi\"'", "'say \"hi\"'"},
		{"'it\\'s \"x\"'", "'it\\'s \"x\"'"},
		{"'a\\nb\\tc\\r'", "'a\\nb\\tc\\r'"},
		{"'\\x00\\x1f\\x7f'", "'\\x00\\x1f\\x7f'"},
		{"'\u00e9'", "'\u00e9'"},
		{"'\U0001f600'", "'\U0001f600'"},
		{"'\\u200b'", "'\\u200b'"},
		{"'\\\\'", "'\\\\'"},
		{"''", "''"},
		{"b'abc'", "b'abc'"},
		{"b\"it's\"", "b\"it's\""},
		{"b'\\x00\\xff\\n'", "b'\\x00\\xff\\n'"},
		{"b'\"'", "b'\"'"},
		{"b'it\\'s \"x\"'", "b'it\\'s \"x\"'"},
		{"b''", "b''"},
		{"{'a': 1, 2: [1.0, None, True]}", "{'a': 1, 2: [1.0, None, True]}"},
		{"[1, 'x', (2,)]", "[1, 'x', (2,)]"},
		{"()", "()"},
		{"(1,)", "(1,)"},
		{"(1, 'a')", "(1, 'a')"},
		{"{}", "{}"},
		{"[]", "[]"},
		{"set([1])", "{1}"},
		{"set()", "set()"},
		{"{'k': {'n': (1, 2.5)}}", "{'k': {'n': (1, 2.5)}}"},
	} {
		v := mustEval(t, env, tc.expr)
		check(t, "repr("+tc.expr+")", Repr(v), nil, tc.want)
	}
}

func TestStr(t *testing.T) {
	env := pyEnv()
	for _, tc := range []struct{ expr, want string }{
		{"0.1", "0.1"},
		{"-0.0", "-0.0"},
		{"'it\\'s'", "it's"},
		{"b'ab'", "b'ab'"},
		{"[1, 'a']", "[1, 'a']"},
		{"{'a': 'b'}", "{'a': 'b'}"},
		{"None", "None"},
		{"True", "True"},
		{"1e22", "1e+22"},
		{"(1,)", "(1,)"},
	} {
		v := mustEval(t, env, tc.expr)
		check(t, "str("+tc.expr+")", Str(v), nil, tc.want)
	}
}

func TestFormatValue(t *testing.T) {
	env := pyEnv()
	for _, tc := range []struct{ value, spec, want string }{
		{"3.14159", ".2f", "3.14"},
		{"'ab'", ">5", "   ab"},
		{"'ab'", "^7", "  ab   "},
		{"'ab'", "*<6", "ab****"},
		{"'abc'", "^6", " abc  "},
		{"1234567", ",", "1,234,567"},
		{"1234567", "_", "1_234_567"},
		{"1234567.891", ",.2f", "1,234,567.89"},
		{"3.14159", "08.2f", "00003.14"},
		{"-3.14159", "08.2f", "-0003.14"},
		{"42", "=+8d", "+     42"},
		{"5", "#b", "0b101"},
		{"255", "#X", "0XFF"},
		{"255", "x", "ff"},
		{"255", "#o", "0o377"},
		{"0.1234", ".1%", "12.3%"},
		{"1234.5", "e", "1.234500e+03"},
		{"1234.5", "g", "1234.5"},
		{"0.00001234", "g", "1.234e-05"},
		{"1e16", "g", "1e+16"},
		{"1234567", "n", "1234567"},
		{"1234.5", "n", "1234.5"},
		{"3.14159", ".0", "3e+00"},
		{"3.14159", ".3", "3.14"},
		{"1e22", ".3", "1e+22"},
		{"100.0", ".3", "1e+02"},
		{"1e16", "", "1e+16"},
		{"1.0", "", "1.0"},
		{"12", "", "12"},
		{"'x'", "", "x"},
		{"-0.0", ".1f", "-0.0"},
		{"-0.0", "z.1f", "0.0"},
		{"-0.04", "z.1f", "0.0"},
		{"-0.0", "", "-0.0"},
		{"-0.0", "g", "-0"},
		{"-0.0", "e", "-0.000000e+00"},
		{"0.5", ".0f", "0"},
		{"1.5", ".0f", "2"},
		{"2.5", ".0f", "2"},
		{"2.675", ".2f", "2.67"},
		{"1e300", ".2e", "1.00e+300"},
		{"float('nan')", ".2f", "nan"},
		{"float('inf')", "+f", "+inf"},
		{"-float('inf')", "08.1f", "-0000inf"},
		{"float('nan')", "E", "NAN"},
		{"42", "+d", "+42"},
		{"42", " d", " 42"},
		{"-42", "05d", "-0042"},
		{"42", "<5d", "42   "},
		{"42", "^6d", "  42  "},
		{"42", "x<5", "42xxx"},
		{"1234567", "08,d", "1,234,567"},
		{"1234", "010,", "00,001,234"},
		{"1234", "09,", "0,001,234"},
		{"-1234", "011,", "-00,001,234"},
		{"'ab'", "05", "ab000"},
		{"1234567", "_x", "12_d687"},
		{"65", "c", "A"},
		{"True", "d", "1"},
		{"True", "", "True"},
		{"True", "5", "    1"},
		{"None", "", "None"},
		{"3", "f", "3.000000"},
		{"3", "%", "300.000000%"},
		{"3", ".2e", "3.00e+00"},
		{"3.0", "d", "error: Unknown format code 'd' for object of type 'float'"},
		{"'x'", "d", "error: Unknown format code 'd' for object of type 'str'"},
		{"3", "s", "error: Unknown format code 's' for object of type 'int'"},
		{"3.5", "x", "error: Unknown format code 'x' for object of type 'float'"},
		{"'abc'", ".2", "ab"},
		{"'abc'", "5.1", "a    "},
		{"12345.678", "#.0f", "12346."},
		{"1.0", "#g", "1.00000"},
		{"0.0001", ".3g", "0.0001"},
		{"123456789", ".3g", "1.23e+08"},
		{"1.5", "G", "1.5"},
		{"1e-10", "G", "1E-10"},
		{"0.000012345", ".3", "1.23e-05"},
		{"-5", "#x", "-0x5"},
		{"-5", "+#b", "-0b101"},
		{"255", "#010x", "0x000000ff"},
		{"3.14159", "10.3f", "     3.142"},
		{"3.14159", "<10.3e", "3.142e+00 "},
		{"1e100", "f", "10000000000000000159028911097599180468360808563945281389781327557747838772170381060813469985856815104.000000"},
		{"123.456", "%", "12345.600000%"},
		{"-1234.5", ",.1f", "-1,234.5"},
		{"1234.5", "_.1f", "1_234.5"},
		{"'abc'", "=5", "error: '=' alignment not allowed in string format specifier"},
		{"12", ",x", "error: Cannot specify ',' with 'x'."},
		{"[1]", "", "[1]"},
		{"[1]", "5", "error: unsupported format string passed to list.__format__"},
		{"float('nan')", "08", "00000nan"},
		{"float('inf')", "08,.1f", "00000inf"},
		{"float('inf')", "=8", "     inf"},
		{"'x'", ",", "error: Cannot specify ',' with 's'."},
	} {
		v := mustEval(t, env, tc.value)
		got, err := FormatValue(v, tc.spec)
		check(t, "format("+tc.value+", "+Repr(starlark.String(tc.spec))+")", got, err, tc.want)
	}
}

func TestPercent(t *testing.T) {
	env := pyEnv()
	for _, tc := range []struct{ format, args, want string }{
		{"%s", "(1,)", "1"},
		{"%s", "[1, 2]", "[1, 2]"},
		{"%s %s", "(1, 2)", "1 2"},
		{"%(a)s", "{'a': 1}", "1"},
		{"%s", "{'a': 1}", "{'a': 1}"},
		{"%s", "1", "1"},
		{"%s", "(1, 2)", "error: not all arguments converted during string formatting"},
		{"%s %s", "(1,)", "error: not enough arguments for format string"},
		{"%s", "()", "error: not enough arguments for format string"},
		{"%d", "(1, 2)", "error: not all arguments converted during string formatting"},
		{"x", "(1,)", "error: not all arguments converted during string formatting"},
		{"x", "()", "x"},
		{"x", "{'a': 1}", "x"},
		{"x", "[1]", "x"},
		{"%(a)s %(b)r", "{'a': 1, 'b': 'x'}", "1 'x'"},
		{"%(a)s", "(1,)", "error: format requires a mapping"},
		{"%(missing)s", "{'a': 1}", "error: KeyError: 'missing'"},
		{"%5s|", "'ab'", "   ab|"},
		{"%-5s|", "'ab'", "ab   |"},
		{"%05d", "42", "00042"},
		{"%05d", "-42", "-0042"},
		{"%+d", "5", "+5"},
		{"% d", "5", " 5"},
		{"% d", "-5", "-5"},
		{"%x", "255", "ff"},
		{"%#x", "255", "0xff"},
		{"%X", "255", "FF"},
		{"%#X", "255", "0XFF"},
		{"%#o", "8", "0o10"},
		{"%o", "8", "10"},
		{"%e", "1234.5", "1.234500e+03"},
		{"%g", "1234.5", "1234.5"},
		{"%G", "1e-10", "1E-10"},
		{"%.3g", "3.14159", "3.14"},
		{"%#g", "1.0", "1.00000"},
		{"%c", "65", "A"},
		{"%c", "'z'", "z"},
		{"%r", "'x'", "'x'"},
		{"%a", "'\u00e9'", "'\\xe9'"},
		{"%*d", "(5, 42)", "   42"},
		{"%.*f", "(2, 3.14159)", "3.14"},
		{"%-*d|", "(5, 42)", "42   |"},
		{"100%%", "()", "100%"},
		{"%d%%", "50", "50%"},
		{"%f", "3.14159", "3.141590"},
		{"%.2f", "2.675", "2.67"},
		{"%.0f", "0.5", "0"},
		{"%.0f", "1.5", "2"},
		{"%d", "-0.0", "0"},
		{"%d", "3.99", "3"},
		{"%d", "-3.99", "-3"},
		{"%i", "7", "7"},
		{"%u", "7", "7"},
		{"%f", "-0.0", "-0.000000"},
		{"%.1f", "-0.0", "-0.0"},
		{"%s", "-0.0", "-0.0"},
		{"%r", "-0.0", "-0.0"},
		{"%s", "0.1", "0.1"},
		{"%s", "1e22", "1e+22"},
		{"%d", "'x'", "error: %d format: a real number is required, not str"},
		{"%x", "3.5", "error: %x format: an integer is required, not float"},
		{"%s", "None", "None"},
		{"%s", "True", "True"},
		{"%d", "True", "1"},
		{"%r", "[1, 'a']", "[1, 'a']"},
		{"%s", "b'ab'", "b'ab'"},
		{"%10.3f|", "3.14159", "     3.142|"},
		{"%-10.2e|", "1234.5", "1.23e+03  |"},
		{"%.3s", "'abcdef'", "abc"},
		{"%5.1s|", "'abc'", "    a|"},
		{"%+.2f", "1.0", "+1.00"},
		{"%e", "0.0", "0.000000e+00"},
		{"%g", "1e16", "1e+16"},
		{"%g", "100000.0", "100000"},
		{"%g", "1000000.0", "1e+06"},
		{"%x", "-255", "-ff"},
		{"%#x", "-255", "-0xff"},
		{"%f", "float('nan')", "nan"},
		{"%f", "float('inf')", "inf"},
		{"%5.1f%%", "12.34", " 12.3%"},
		{"%z", "1", "error: unsupported format character 'z' (0x7a) at index 1"},
		{"%", "1", "error: incomplete format"},
		{"%s %s", "{'a': 1}", "error: not enough arguments for format string"},
		{"%(a)d items", "{'a': 3}", "3 items"},
		{"%s", "[(1, 2)]", "[(1, 2)]"},
		{"%.2f", "1", "1.00"},
		{"%e", "1", "1.000000e+00"},
		{"%08.3f", "-3.14159", "-003.142"},
		{"%+05d", "3", "+0003"},
		{"%-05d|", "3", "3    |"},
		{"%x", "True", "1"},
		{"%08.1f", "float('inf')", "00000inf"},
		{"%-8f|", "float('-inf')", "-inf    |"},
		{"x", "b'a'", "x"},
		{"%s", "b'a'", "b'a'"},
	} {
		v := mustEval(t, env, tc.args)
		got, err := Percent(tc.format, v)
		check(t, Repr(starlark.String(tc.format))+" % "+tc.args, got, err, tc.want)
	}
}

func TestStrFormat(t *testing.T) {
	env := pyEnv()
	for _, tc := range []struct{ format, args, kwargs, want string }{
		{"{} {}", "(1, 2)", "{}", "1 2"},
		{"{0} {1} {0}", "('a', 'b')", "{}", "a b a"},
		{"{name}", "()", "{'name': 'x'}", "x"},
		{"{0[key]}", "({'key': 5},)", "{}", "5"},
		{"{a[0]}", "()", "{'a': [7, 8]}", "7"},
		{"{a[1]}", "()", "{'a': 'xyz'}", "y"},
		{"{0!r}", "('x',)", "{}", "'x'"},
		{"{0!s}", "('x',)", "{}", "x"},
		{"{0!a}", "('\u00e9',)", "{}", "'\\xe9'"},
		{"{{}} {{{0}}}", "(1,)", "{}", "{} {1}"},
		{"{:{w}.{p}f}", "(3.14159,)", "{'w': 10, 'p': 2}", "      3.14"},
		{"{:>{}}", "('x', 4)", "{}", "   x"},
		{"{0:{1}}", "(5, '03d')", "{}", "005"},
		{"{:.2f}", "(2.675,)", "{}", "2.67"},
		{"{:,}", "(1234567,)", "{}", "1,234,567"},
		{"{!r:>6}", "('ab',)", "{}", "  'ab'"},
		{"{0[0]}", "([[1, 2]],)", "{}", "[1, 2]"},
		{"{0[1][0]}", "([0, (9, 8)],)", "{}", "9"},
		{"{}", "(-0.0,)", "{}", "-0.0"},
		{"{:z.1f}", "(-0.0,)", "{}", "0.0"},
		{"{}", "(None,)", "{}", "None"},
		{"{}", "([1, 'a'],)", "{}", "[1, 'a']"},
		{"{}", "({'a': 1},)", "{}", "{'a': 1}"},
		{"{x}{y}", "()", "{'x': 1, 'y': 'z'}", "1z"},
		{"{} {}", "(1,)", "{}", "error: Replacement index 1 out of range for positional args tuple"},
		{"{1}", "(1,)", "{}", "error: Replacement index 1 out of range for positional args tuple"},
		{"{name}", "()", "{}", "error: KeyError: 'name'"},
		{"{} {0}", "(1,)", "{}", "error: cannot switch from automatic field numbering to manual field specification"},
		{"{0} {}", "(1,)", "{}", "error: cannot switch from manual field specification to automatic field numbering"},
		{"{", "()", "{}", "error: Single '{' encountered in format string"},
		{"}", "()", "{}", "error: Single '}' encountered in format string"},
		{"{0!x}", "(1,)", "{}", "error: Unknown conversion specifier x"},
		{"{0[2]}", "([1],)", "{}", "error: list index out of range"},
		{"{0[k]}", "({},)", "{}", "error: KeyError: 'k'"},
		{"{:d}", "('x',)", "{}", "error: Unknown format code 'd' for object of type 'str'"},
		{"{:s}", "(1,)", "{}", "error: Unknown format code 's' for object of type 'int'"},
		{"{0:", "(1,)", "{}", "error: unmatched '{' in format spec"},
		{"a{}b", "('',)", "{}", "ab"},
		{"{:%}", "(0.5,)", "{}", "50.000000%"},
		{"{:^9.3e}", "(12345.678,)", "{}", "1.235e+04"},
		{"{0", "(1,)", "{}", "error: expected '}' before end of string"},
		{"x}y", "()", "{}", "error: Single '}' encountered in format string"},
	} {
		args := mustEval(t, env, tc.args).(starlark.Tuple)
		kw := kwargsOf(mustEval(t, env, tc.kwargs))
		got, err := StrFormat(tc.format, args, kw)
		check(t, Repr(starlark.String(tc.format))+".format(*"+tc.args+", **"+tc.kwargs+")", got, err, tc.want)
	}
}
