// Code generated from CPython 3.11 (python3 -c ...); every want is
// repr() of what CPython returned for the same expression, or
// "error: msg" with CPython's message, which qstar's error must contain.

package python

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestJSON(t *testing.T) {
	env := pyEnv(starlark.StringDict{"json": JSONModule()})
	runEvalCases(t, env, []evalCase{
		{"json.dumps({'a': 1, 'b': [1, 2.5, None, True, False]})", "'{\"a\": 1, \"b\": [1, 2.5, null, true, false]}'"},
		{"json.dumps([1, 'x'])", "'[1, \"x\"]'"},
		{"json.dumps({'a': {'b': []}}, indent=2)", "'{\\n  \"a\": {\\n    \"b\": []\\n  }\\n}'"},
		{"json.dumps([1, [2, {}]], indent=2)", "'[\\n  1,\\n  [\\n    2,\\n    {}\\n  ]\\n]'"},
		{"json.dumps({'a': [1, 2]}, indent='\\t')", "'{\\n\\t\"a\": [\\n\\t\\t1,\\n\\t\\t2\\n\\t]\\n}'"},
		{"json.dumps([], indent=2)", "'[]'"},
		{"json.dumps({}, indent=2)", "'{}'"},
		{"json.dumps([[]], indent=2)", "'[\\n  []\\n]'"},
		{"json.dumps({'a': {}}, indent=2)", "'{\\n  \"a\": {}\\n}'"},
		{"json.dumps({'a': 1}, indent=0)", "'{\\n\"a\": 1\\n}'"},
		{"json.dumps({'b': 1, 'a': 2, 'c': {'z': 1, 'y': 2}}, sort_keys=True)", "'{\"a\": 2, \"b\": 1, \"c\": {\"y\": 2, \"z\": 1}}'"},
		{"json.dumps({'a': [1, 2]}, separators=(',', ':'))", "'{\"a\":[1,2]}'"},
		{"json.dumps({'a': 1, 'b': 2}, indent=2, separators=(',', ': '))", "'{\\n  \"a\": 1,\\n  \"b\": 2\\n}'"},
		{"json.dumps({'a': 1}, indent=2, separators=(', ', ' = '))", "'{\\n  \"a\" = 1\\n}'"},
		{"json.dumps('\u00e9')", "'\"\\\\u00e9\"'"},
		{"json.dumps('\u00e9', ensure_ascii=False)", "'\"\u00e9\"'"},
		{"json.dumps('\U0001f600')", "'\"\\\\ud83d\\\\ude00\"'"},
		{"json.dumps('\U0001f600', ensure_ascii=False)", "'\"\U0001f600\"'"},
		{"json.dumps('a\"b\\\\c\\n\\t\\x00\\x1f\\x7f')", "'\"a\\\\\"b\\\\\\\\c\\\\n\\\\t\\\\u0000\\\\u001f\\\\u007f\"'"},
		{"json.dumps('\\u2028')", "'\"\\\\u2028\"'"},
		{"json.dumps('/')", "'\"/\"'"},
		{"json.dumps(float('nan'))", "'NaN'"},
		{"json.dumps(float('inf'))", "'Infinity'"},
		{"json.dumps(-float('inf'))", "'-Infinity'"},
		{"json.dumps([float('nan')], allow_nan=False)", "error: Out of range float values are not JSON compliant"},
		{"json.dumps({1: 'a', 1.5: 'b', None: 'd'})", "'{\"1\": \"a\", \"1.5\": \"b\", \"null\": \"d\"}'"},
		{"json.dumps({True: 'c'})", "'{\"true\": \"c\"}'"},
		{"json.dumps({False: 1})", "'{\"false\": 1}'"},
		{"json.dumps({(1, 2): 1})", "error: keys must be str, int, float, bool or None, not tuple"},
		{"json.dumps({(1, 2): 1, 'a': 2}, skipkeys=True)", "'{\"a\": 2}'"},
		{"json.dumps((1, 2))", "'[1, 2]'"},
		{"json.dumps({'t': (1, (2,))})", "'{\"t\": [1, [2]]}'"},
		{"json.dumps(0.1)", "'0.1'"},
		{"json.dumps(1e16)", "'1e+16'"},
		{"json.dumps(1e-05)", "'1e-05'"},
		{"json.dumps(-0.0)", "'-0.0'"},
		{"json.dumps(pow(10, 20))", "'100000000000000000000'"},
		{"json.dumps(1.0)", "'1.0'"},
		{"json.dumps(None)", "'null'"},
		{"json.dumps(True)", "'true'"},
		{"json.dumps('')", "'\"\"'"},
		{"json.dumps(b'x')", "error: Object of type bytes is not JSON serializable"},
		{"json.dumps({'a': set()})", "error: Object of type set is not JSON serializable"},
		{"json.dumps({'a': b'x'}, default=lambda o: str(o))", "'{\"a\": \"b\\'x\\'\"}'"},
		{"json.dumps({'b': 1, 'a': 2}, sort_keys=True, indent=1)", "'{\\n \"a\": 2,\\n \"b\": 1\\n}'"},
		{"json.dumps({2: 'x', 1: 'y'}, sort_keys=True)", "'{\"1\": \"y\", \"2\": \"x\"}'"},
		{"json.loads('{\"a\": [1, 2.5, null, true, false, \"x\"]}')", "{'a': [1, 2.5, None, True, False, 'x']}"},
		{"json.loads('1e2')", "100.0"},
		{"json.loads('-0')", "0"},
		{"json.loads('-0.0')", "-0.0"},
		{"json.loads('10000000000000000000000')", "10000000000000000000000"},
		{"json.loads('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", "'\u00e9\U0001f600'"},
		{"json.loads(' [1] ')", "[1]"},
		{"json.loads('{\"a\": 1, \"a\": 2}')", "{'a': 2}"},
		{"json.loads(b'[1]')", "[1]"},
		{"json.loads('1.5')", "1.5"},
		{"json.loads('\"\\\\n\"')", "'\\n'"},
		{"json.loads('{}')", "{}"},
		{"json.loads('[]')", "[]"},
	})
}
