package python

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"regexp"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Builtins returns the Python built-in functions that Starlark lacks or
// that behave differently in Python, to be predeclared over Starlark's
// universe: round, sum, isinstance, filter, map, divmod, pow, format,
// ascii, int and float (which also take bytes), str and repr (Python's
// repr: {'a': 1}) and print (sep, end, flush).
func Builtins() starlark.StringDict {
	return starlark.StringDict{
		"round":      starlark.NewBuiltin("round", round),
		"sum":        starlark.NewBuiltin("sum", sum),
		"isinstance": starlark.NewBuiltin("isinstance", isinstance),
		"filter":     starlark.NewBuiltin("filter", filter),
		"map":        starlark.NewBuiltin("map", mapFn),
		"divmod":     starlark.NewBuiltin("divmod", divmod),
		"pow":        starlark.NewBuiltin("pow", pow),
		"format":     starlark.NewBuiltin("format", formatBuiltin),
		"ascii":      starlark.NewBuiltin("ascii", asciiBuiltin),
		"int":        starlark.NewBuiltin("int", intFn),
		"float":      starlark.NewBuiltin("float", floatFn),
		"str":        starlark.NewBuiltin("str", strFn),
		"repr":       starlark.NewBuiltin("repr", reprFn),
		"print":      starlark.NewBuiltin("print", printFn),
	}
}

// round(number, ndigits=None): ties go to the even neighbour, on the
// exact binary value (round(2.675, 2) is 2.67, round(0.125, 2) is 0.12,
// round(2.5) is 2). Without ndigits the result is an int; with it, the
// type of number.
func round(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, nd starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "number", &x, "ndigits?", &nd); err != nil {
		return nil, err
	}
	if bv, ok := x.(starlark.Bool); ok {
		x = starlark.MakeInt(boolInt(bv))
	}
	ndigits, hasN := 0, nd != starlark.None
	if hasN {
		n, ok := nd.(starlark.Int)
		if !ok {
			return nil, fmt.Errorf("%s: '%s' object cannot be interpreted as an integer", b.Name(), pyTypeName(nd))
		}
		n64, _ := n.Int64()
		ndigits = int(max(min(n64, 10000), -10000))
	}
	switch x := x.(type) {
	case starlark.Int:
		if !hasN || ndigits >= 0 {
			return x, nil
		}
		r := roundRat(new(big.Rat).SetInt(x.BigInt()), ndigits)
		return starlark.MakeBigInt(r.Num()), nil
	case starlark.Float:
		f := float64(x)
		if !hasN {
			if math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: cannot convert float infinity to integer", b.Name())
			}
			if math.IsNaN(f) {
				return nil, fmt.Errorf("%s: cannot convert float NaN to integer", b.Name())
			}
			return starlark.NumberToInt(starlark.Float(math.RoundToEven(f)))
		}
		if math.IsInf(f, 0) || math.IsNaN(f) || f == 0 || ndigits > 330 {
			return x, nil
		}
		r, _ := roundRat(new(big.Rat).SetFloat64(f), ndigits).Float64()
		if r == 0 && math.Signbit(f) {
			r = math.Copysign(0, -1)
		}
		return starlark.Float(r), nil
	}
	return nil, fmt.Errorf("%s: type %s doesn't define __round__ method", b.Name(), pyTypeName(x))
}

// roundRat rounds r to a multiple of 10^-ndigits, ties to even.
func roundRat(r *big.Rat, ndigits int) *big.Rat {
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(ndigits))), nil))
	scaled := new(big.Rat).Set(r)
	if ndigits >= 0 {
		scaled.Mul(scaled, scale)
	} else {
		scaled.Quo(scaled, scale)
	}
	// Round scaled to an integer, half to even.
	q, m := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
	switch twice.Cmp(scaled.Denom()) {
	case 1:
		q.Add(q, big.NewInt(int64(m.Sign())))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(m.Sign())))
		}
	}
	out := new(big.Rat).SetInt(q)
	if ndigits >= 0 {
		return out.Quo(out, scale)
	}
	return out.Mul(out, scale)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func boolInt(b starlark.Bool) int {
	if b {
		return 1
	}
	return 0
}

// sum(iterable, /, start=0): ints add exactly; floats add with
// compensated (Neumaier) summation as CPython 3.12+ does, so
// sum([0.1] * 10) is 1.0; other values add with +.
func sum(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var iterable starlark.Iterable
	var start starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &iterable, "start?", &start); err != nil {
		return nil, err
	}
	switch start.(type) {
	case starlark.String:
		return nil, fmt.Errorf("%s() can't sum strings [use ''.join(seq) instead]", b.Name())
	case starlark.Bytes:
		return nil, fmt.Errorf("%s() can't sum bytes [use b''.join(seq) instead]", b.Name())
	}
	iter := iterable.Iterate()
	defer iter.Done()
	acc := start
	var fsum, comp float64 // the float sum and its compensation, while floating
	floating := false
	add := func(v float64) {
		t := fsum + v
		if math.Abs(fsum) >= math.Abs(v) {
			comp += (fsum - t) + v
		} else {
			comp += (v - t) + fsum
		}
		fsum = t
	}
	var x starlark.Value
	for iter.Next(&x) {
		if bv, ok := x.(starlark.Bool); ok {
			x = starlark.MakeInt(boolInt(bv))
		}
		if !floating {
			if f, ok := floatStart(acc, x); ok {
				floating, fsum, comp = true, f, 0
			}
		}
		if floating {
			if v, ok := x.(starlark.Float); ok {
				add(float64(v))
				continue
			}
			if v, ok := x.(starlark.Int); ok {
				add(float64(v.Float()))
				continue
			}
			acc, floating = floatResult(fsum, comp), false
		}
		r, err := starlark.Binary(syntax.PLUS, acc, x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		acc = r
	}
	if floating {
		return floatResult(fsum, comp), nil
	}
	return acc, nil
}

// floatStart says whether adding x to acc starts float summation, and
// from which value.
func floatStart(acc, x starlark.Value) (float64, bool) {
	switch a := acc.(type) {
	case starlark.Float:
		switch x.(type) {
		case starlark.Float, starlark.Int:
			return float64(a), true
		}
	case starlark.Int:
		if _, ok := x.(starlark.Float); ok {
			return float64(a.Float()), true
		}
	}
	return 0, false
}

func floatResult(fsum, comp float64) starlark.Value {
	if comp == 0 || math.IsInf(fsum, 0) || math.IsNaN(fsum) {
		return starlark.Float(fsum)
	}
	return starlark.Float(fsum + comp)
}

// Class is a script-visible type that isinstance() can test against
// (datetime, timezone, Counter).
type Class interface {
	starlark.Value
	IsInstance(v starlark.Value) bool
}

// builtinTypes are Starlark's type constructors as isinstance() classes;
// as in Python, bool values are ints too.
var builtinTypes = map[string]func(starlark.Value) bool{
	"str":   func(v starlark.Value) bool { _, ok := v.(starlark.String); return ok },
	"bytes": func(v starlark.Value) bool { _, ok := v.(starlark.Bytes); return ok },
	"int": func(v starlark.Value) bool {
		switch v.(type) {
		case starlark.Int, starlark.Bool:
			return true
		}
		return false
	},
	"float": func(v starlark.Value) bool { _, ok := v.(starlark.Float); return ok },
	"bool":  func(v starlark.Value) bool { _, ok := v.(starlark.Bool); return ok },
	"dict": func(v starlark.Value) bool {
		switch v.(type) {
		case *starlark.Dict, *Counter:
			return true
		}
		return false
	},
	"list":  func(v starlark.Value) bool { _, ok := v.(*starlark.List); return ok },
	"tuple": func(v starlark.Value) bool { _, ok := v.(starlark.Tuple); return ok },
	"set":   func(v starlark.Value) bool { _, ok := v.(*starlark.Set); return ok },
}

// isinstance(object, classinfo): classinfo is a type (str, int, float,
// bool, dict, list, tuple, bytes, set, datetime, ...) or a tuple of them.
func isinstance(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj, classinfo starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &obj, &classinfo); err != nil {
		return nil, err
	}
	ok, err := isInstance(obj, classinfo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.Bool(ok), nil
}

func isInstance(obj, classinfo starlark.Value) (bool, error) {
	switch c := classinfo.(type) {
	case starlark.Tuple:
		for _, x := range c {
			ok, err := isInstance(obj, x)
			if ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case Class:
		return c.IsInstance(obj), nil
	case *starlark.Builtin:
		if pred, ok := builtinTypes[c.Name()]; ok && c.Receiver() == nil {
			return pred(obj), nil
		}
	case starlark.NoneType:
		return false, fmt.Errorf("isinstance() arg 2 must be a type, a tuple of types, or a union")
	}
	return false, fmt.Errorf("isinstance() arg 2 must be a type, a tuple of types, or a union, not %s", classinfo.Type())
}

// filter(function, iterable) returns the items for which function is
// true (all true items when function is None), as a list.
func filter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Value
	var iterable starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &iterable); err != nil {
		return nil, err
	}
	callable, isCallable := fn.(starlark.Callable)
	if fn != starlark.None && !isCallable {
		return nil, fmt.Errorf("%s: '%s' object is not callable", b.Name(), fn.Type())
	}
	iter := iterable.Iterate()
	defer iter.Done()
	var out []starlark.Value
	var x starlark.Value
	for iter.Next(&x) {
		keep := x.Truth()
		if isCallable {
			r, err := starlark.Call(thread, callable, starlark.Tuple{x}, nil)
			if err != nil {
				return nil, err
			}
			keep = r.Truth()
		}
		if keep {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

// map(function, iterable, ...) applies function to the items (of several
// iterables in step, up to the shortest), as a list.
func mapFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: takes no keyword arguments", b.Name())
	}
	if len(args) < 2 {
		return nil, fmt.Errorf("%s: must have at least two arguments", b.Name())
	}
	fn, ok := args[0].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: '%s' object is not callable", b.Name(), args[0].Type())
	}
	iters := make([]starlark.Iterator, len(args)-1)
	for i, a := range args[1:] {
		it, ok := a.(starlark.Iterable)
		if !ok {
			return nil, fmt.Errorf("%s: '%s' object is not iterable", b.Name(), a.Type())
		}
		iters[i] = it.Iterate()
		defer iters[i].Done()
	}
	var out []starlark.Value
	for {
		call := make(starlark.Tuple, len(iters))
		for i, it := range iters {
			if !it.Next(&call[i]) {
				return starlark.NewList(out), nil
			}
		}
		r, err := starlark.Call(thread, fn, call, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

// divmod(a, b) is (a // b, a % b).
func divmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	switch yv := y.(type) {
	case starlark.Int:
		if yv.Sign() == 0 {
			if _, isFloat := x.(starlark.Float); isFloat {
				return nil, fmt.Errorf("%s: float divmod()", b.Name())
			}
			return nil, fmt.Errorf("%s: integer division or modulo by zero", b.Name())
		}
	case starlark.Float:
		if yv == 0 {
			return nil, fmt.Errorf("%s: float divmod()", b.Name())
		}
	}
	q, err := starlark.Binary(syntax.SLASHSLASH, x, y)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	r, err := starlark.Binary(syntax.PERCENT, x, y)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	// A zero float remainder takes the divisor's sign, as in CPython:
	// divmod(-0.0, 1) is (-0.0, 0.0).
	if rf, ok := r.(starlark.Float); ok && rf == 0 {
		yf, _ := starlark.AsFloat(y)
		r = starlark.Float(math.Copysign(0, yf))
	}
	return starlark.Tuple{q, r}, nil
}

// pow(base, exp, mod=None): exact for ints with a non-negative exponent
// (or a negative one with mod, via the modular inverse, as Python 3.8+),
// float otherwise.
func pow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var base, exp, mod starlark.Value = nil, nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "base", &base, "exp", &exp, "mod?", &mod); err != nil {
		return nil, err
	}
	bi, bInt := base.(starlark.Int)
	ei, eInt := exp.(starlark.Int)
	if mi, ok := mod.(starlark.Int); ok && bInt && eInt && ei.Sign() < 0 && mi.Sign() != 0 {
		m := new(big.Int).Abs(mi.BigInt())
		inv := new(big.Int).ModInverse(new(big.Int).Mod(bi.BigInt(), m), m)
		if inv == nil {
			return nil, fmt.Errorf("%s: base is not invertible for the given modulus", b.Name())
		}
		bi, ei = starlark.MakeBigInt(inv), starlark.MakeBigInt(new(big.Int).Neg(ei.BigInt()))
	}
	if bInt && eInt && ei.Sign() >= 0 {
		var m *big.Int
		if mi, ok := mod.(starlark.Int); ok {
			if mi.Sign() == 0 {
				return nil, fmt.Errorf("%s: pow() 3rd argument cannot be 0", b.Name())
			}
			m = mi.BigInt()
		}
		if m == nil && ei.BigInt().BitLen() > 20 {
			return nil, fmt.Errorf("%s: exponent too large", b.Name())
		}
		r := new(big.Int).Exp(bi.BigInt(), ei.BigInt(), m)
		if m != nil && r.Sign() != 0 && r.Sign() != m.Sign() {
			r.Add(r, m)
		}
		return starlark.MakeBigInt(r), nil
	}
	if mod != starlark.None {
		return nil, fmt.Errorf("%s: 3rd argument not allowed unless all arguments are integers", b.Name())
	}
	fb, ok1 := starlark.AsFloat(base)
	fe, ok2 := starlark.AsFloat(exp)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: unsupported operand type(s) for ** or pow(): '%s' and '%s'", b.Name(), pyTypeName(base), pyTypeName(exp))
	}
	if fb == 0 && fe < 0 {
		return nil, fmt.Errorf("%s: 0.0 cannot be raised to a negative power", b.Name())
	}
	return starlark.Float(math.Pow(fb, fe)), nil
}

// format(value, format_spec=”) is value.__format__(format_spec).
func formatBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var specText string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v, &specText); err != nil {
		return nil, err
	}
	s, err := FormatValue(v, specText)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(s), nil
}

func asciiBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	return starlark.String(ASCII(Repr(v))), nil
}

// int(x=0, base=10) also reads bytes, as Python does (int(b"12") is 12).
// Digits may be grouped with single underscores ("1_000"); a string it
// cannot read fails with CPython's message.
func intFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	orig := args
	args = bytesArgToString(args)
	if len(args) > 0 {
		if s, ok := args[0].(starlark.String); ok && underscored.MatchString(string(s)) {
			args = append(starlark.Tuple{starlark.String(strings.ReplaceAll(string(s), "_", ""))}, args[1:]...)
		}
	}
	v, err := starlark.Call(thread, starlark.Universe["int"], args, kwargs)
	if err != nil && len(orig) > 0 && len(kwargs) == 0 {
		switch orig[0].(type) {
		case starlark.String, starlark.Bytes:
			base := starlark.Value(starlark.MakeInt(10))
			if len(orig) > 1 {
				base = orig[1]
			}
			if strings.Contains(err.Error(), "invalid literal") {
				return nil, fmt.Errorf("invalid literal for int() with base %s: %s", base, Repr(orig[0]))
			}
		}
	}
	return v, err
}

// underscored matches digits grouped by single underscores, as Python's
// int() and float() accept them.
var underscored = regexp.MustCompile(`^\s*[+-]?(0[xXoObB]_?)?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)+\s*$`)

// float(x=0.0) also reads bytes.
func floatFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	orig := args
	args = bytesArgToString(args)
	if len(args) == 1 {
		if s, ok := args[0].(starlark.String); ok {
			// Python accepts surrounding whitespace and "1_000.5".
			args = starlark.Tuple{starlark.String(strings.ReplaceAll(strings.TrimSpace(string(s)), "_", ""))}
		}
	}
	v, err := starlark.Call(thread, starlark.Universe["float"], args, kwargs)
	if err != nil && len(args) == 1 && strings.Contains(err.Error(), "invalid float literal") {
		return nil, fmt.Errorf("could not convert string to float: %s", Repr(orig[0]))
	}
	return v, err
}

func bytesArgToString(args starlark.Tuple) starlark.Tuple {
	if len(args) > 0 {
		if by, ok := args[0].(starlark.Bytes); ok {
			out := append(starlark.Tuple{starlark.String(strings.TrimSpace(string(by)))}, args[1:]...)
			return out
		}
		if s, ok := args[0].(starlark.String); ok && len(args) == 1 {
			return starlark.Tuple{starlark.String(strings.TrimSpace(string(s)))}
		}
	}
	return args
}

// str(object=”) is Python's str(): {'a': 1} for a dict. With bytes and
// an encoding it decodes, as bytes.decode does.
func strFn(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value = starlark.String("")
	var encoding, errors starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "object?", &v, "encoding?", &encoding, "errors?", &errors); err != nil {
		return nil, err
	}
	if encoding != starlark.None || errors != starlark.None {
		by, ok := v.(starlark.Bytes)
		if !ok {
			return nil, fmt.Errorf("%s: decoding to str: need a bytes-like object, %s found", b.Name(), pyTypeName(v))
		}
		return decodeBytes(b.Name(), by, encoding, errors)
	}
	return starlark.String(Str(v)), nil
}

func reprFn(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	return starlark.String(Repr(v)), nil
}

// pendingKey is the thread-local key of print's unterminated line.
const pendingKey = "python.print.pending"

// print(*objects, sep=' ', end='\n', file=None, flush=False) writes each
// object's str(). Output goes through the thread's Print a line at a
// time, so text printed with end=” waits for the newline that completes
// its line (or flush=True).
func printFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sep, end := " ", "\n"
	flush := false
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		switch name {
		case "sep", "end":
			var s string
			switch v := kv[1].(type) {
			case starlark.String:
				s = string(v)
			case starlark.NoneType:
				s = map[string]string{"sep": " ", "end": "\n"}[name]
			default:
				return nil, fmt.Errorf("%s: %s must be None or a string, not %s", b.Name(), name, pyTypeName(kv[1]))
			}
			if name == "sep" {
				sep = s
			} else {
				end = s
			}
		case "flush":
			flush = bool(kv[1].Truth())
		case "file":
			// sys.stdout and sys.stderr both go to the job's output.
		default:
			return nil, fmt.Errorf("%s: unexpected keyword argument '%s'", b.Name(), name)
		}
	}
	var text strings.Builder
	if p, ok := thread.Local(pendingKey).(string); ok {
		text.WriteString(p)
	}
	for i, a := range args {
		if i > 0 {
			text.WriteString(sep)
		}
		text.WriteString(Str(a))
	}
	text.WriteString(end)
	s := text.String()
	lines := strings.Split(s, "\n")
	last := lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		emit(thread, line)
	}
	if flush && last != "" {
		emit(thread, last)
		last = ""
	}
	thread.SetLocal(pendingKey, last)
	return starlark.None, nil
}

func emit(thread *starlark.Thread, line string) {
	if thread.Print != nil {
		thread.Print(thread, line)
		return
	}
	fmt.Fprintln(os.Stderr, line)
}

// FlushPrint writes out what print(..., end="") left on the thread without
// a newline (Python flushes standard output at exit).
func FlushPrint(thread *starlark.Thread) {
	if p, ok := thread.Local(pendingKey).(string); ok && p != "" {
		emit(thread, p)
		thread.SetLocal(pendingKey, "")
	}
}
