// Code generated from CPython 3.11 (python3 -c ...); every want is
// repr() of what CPython returned for the same expression, or
// "error: msg" with CPython's message, which qstar's error must contain.

package python

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestCounter(t *testing.T) {
	env := pyEnv(starlark.StringDict{"Counter": CollectionsModule().Members["Counter"]})
	runEvalCases(t, env, []evalCase{
		{"Counter(['a', 'b', 'a', 'c', 'a', 'b'])", "Counter({'a': 3, 'b': 2, 'c': 1})"},
		{"Counter('abracadabra')", "Counter({'a': 5, 'b': 2, 'r': 2, 'c': 1, 'd': 1})"},
		{"Counter()", "Counter()"},
		{"Counter({'x': 2, 'y': 5})", "Counter({'y': 5, 'x': 2})"},
		{"Counter(a=1, b=3)", "Counter({'b': 3, 'a': 1})"},
		{"Counter('abracadabra').most_common(2)", "[('a', 5), ('b', 2)]"},
		{"Counter('abracadabra').most_common()", "[('a', 5), ('b', 2), ('r', 2), ('c', 1), ('d', 1)]"},
		{"Counter('abracadabra').most_common(0)", "[]"},
		{"Counter('abcab').most_common(10)", "[('a', 2), ('b', 2), ('c', 1)]"},
		{"(lambda c: [c.update('abz'), c][1])(Counter('aab'))", "Counter({'a': 3, 'b': 2, 'z': 1})"},
		{"(lambda c: [c.update({'a': 5}), c][1])(Counter('aab'))", "Counter({'a': 7, 'b': 1})"},
		{"(lambda c: [c.update(['q'], q=2), c][1])(Counter('aab'))", "Counter({'q': 3, 'a': 2, 'b': 1})"},
		{"(lambda c: [c.subtract('aaab'), c][1])(Counter('aab'))", "Counter({'b': 0, 'a': -1})"},
		{"(lambda c: [c.subtract({'z': 2}), c][1])(Counter('aab'))", "Counter({'a': 2, 'b': 1, 'z': -2})"},
		{"Counter('aab').total()", "3"},
		{"Counter().total()", "0"},
		{"Counter('aab')['z']", "0"},
		{"Counter('aab')['a']", "2"},
		{"'a' in Counter('aab')", "True"},
		{"'z' in Counter('aab')", "False"},
		{"(lambda c: ['z' in c, c['z'], 'z' in c, len(c)])(Counter('a'))", "[False, 0, False, 1]"},
		{"Counter('bbbaac')", "Counter({'b': 3, 'a': 2, 'c': 1})"},
		{"Counter({'a': 1, 'b': 3, 'c': 3, 'd': 2})", "Counter({'b': 3, 'c': 3, 'd': 2, 'a': 1})"},
		{"Counter({'a': 0, 'b': -1, 'c': 2})", "Counter({'c': 2, 'a': 0, 'b': -1})"},
		{"Counter('aab') == Counter('aba')", "True"},
		{"Counter('aab') == Counter('ab')", "False"},
		{"len(Counter('aab'))", "2"},
		{"sorted(Counter('bca'))", "['a', 'b', 'c']"},
		{"list(Counter('bca'))", "['b', 'c', 'a']"},
		{"Counter('aab').get('a')", "2"},
		{"Counter('aab').get('z')", "None"},
		{"sorted(Counter('aab').items())", "[('a', 2), ('b', 1)]"},
		{"sorted(Counter('aab').keys())", "['a', 'b']"},
		{"sorted(Counter('aab').values())", "[1, 2]"},
		{"isinstance(Counter(), dict)", "True"},
		{"str(Counter('ab'))", "\"Counter({'a': 1, 'b': 1})\""},
		{"Counter(['x', 1, 1])", "Counter({1: 2, 'x': 1})"},
		{"Counter(1)", "error: 'int' object is not iterable"},
	})
}
