package runtime

import (
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/builtins"
)

// rewrite makes comparison operators build StreamingSeries and makes
// truth tests reject them, by replacing:
//
//	x < y              with  __qstar_lt__(x, y)   (likewise <= > >= == !=)
//	if x < y:          with  if __qstar_lt_if__(x, y):
//	if x: / not x / x and y / x or y / while x / ... if x else ...
//	                   with  the condition wrapped in __qstar_if__(x)
//
// Starlark's comparisons always yield a bool, so `sdf["a"] > 5` could not
// build a series otherwise; and a value's truth cannot fail, so
// `if sdf["a"] > 5:` would silently be true. The builtins compare plain
// values exactly as the operators do. Positions are kept: each call sits
// at its operator, so errors point where they did.
//
// Top-level code runs once, while pipelines are built, and is rewritten
// as above. Functions mostly run per message as callbacks, so a def body
// that has a comparison or truth test becomes
//
//	if __qstar_building__:
//	    <the body, rewritten>
//	else:
//	    <the body as written>
//
// and a lambda body `(rewritten if __qstar_building__ else original)`.
// __qstar_building__ is true only while the script loads and while
// `qstar test` runs a test function. A callback processing messages runs
// the interpreter's own operators and pays one flag check per call
// (~25 ns), while a helper def that builds pipelines still builds series.
func rewrite(f *syntax.File) {
	rewriteStmts(f.Stmts)
}

// stmtRewrite says how walkStmts rewrites the expressions of statements:
// conditions (if, while), assignment targets, and every other expression.
type stmtRewrite struct {
	expr, cond, target func(syntax.Expr) syntax.Expr
}

// rewriteStmts rewrites statements that run while pipelines are built.
func rewriteStmts(ss []syntax.Stmt) {
	walkStmts(ss, stmtRewrite{expr: expr, cond: cond, target: indexTarget})
}

// indexTarget rewrites an assignment target only inside an index
// (`sdf["c"] = sdf["a"] > 1`).
func indexTarget(e syntax.Expr) syntax.Expr {
	if ix, ok := e.(*syntax.IndexExpr); ok {
		ix.X = expr(ix.X)
		ix.Y = expr(ix.Y)
	}
	return e
}

// plainStmts leaves statements as written, except for the functions they
// define, which get their two versions.
func plainStmts(ss []syntax.Stmt) {
	walkStmts(ss, stmtRewrite{expr: plain, cond: plain, target: plain})
}

// walkStmts rewrites the expressions of ss with r; every def gets its
// building and running versions.
func walkStmts(ss []syntax.Stmt, r stmtRewrite) {
	for _, s := range ss {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			s.RHS = r.expr(s.RHS)
			s.LHS = r.target(s.LHS)
		case *syntax.ExprStmt:
			s.X = r.expr(s.X)
		case *syntax.IfStmt:
			s.Cond = r.cond(s.Cond)
			walkStmts(s.True, r)
			walkStmts(s.False, r)
		case *syntax.ForStmt:
			s.X = r.expr(s.X)
			walkStmts(s.Body, r)
		case *syntax.WhileStmt:
			s.Cond = r.cond(s.Cond)
			walkStmts(s.Body, r)
		case *syntax.DefStmt:
			def(s)
		case *syntax.ReturnStmt:
			if s.Result != nil {
				s.Result = r.expr(s.Result)
			}
		}
	}
}

// def gives a function body its building and running versions. The
// running version is left exactly as written, nested functions included:
// what it defines runs while processing messages, on plain values, where
// the interpreter's operators are right. (Giving those nested functions
// two versions as well would compile 2^depth copies of deeply nested
// code.)
func def(s *syntax.DefStmt) {
	if !stmtsHaveSite(s.Body) {
		plainStmts(s.Body)
		return
	}
	original := cloneStmts(s.Body)
	rewriteStmts(s.Body)
	s.Body = []syntax.Stmt{&syntax.IfStmt{
		If:      s.Def,
		Cond:    &syntax.Ident{NamePos: s.Def, Name: builtins.BuildingName},
		True:    s.Body,
		ElsePos: s.Def,
		False:   original,
	}}
}

// lambda gives a lambda body its building and running versions; the
// running version is left as written, as def's.
func lambda(l *syntax.LambdaExpr) {
	if !hasSite(l.Body) {
		l.Body = plain(l.Body)
		return
	}
	original := clone(l.Body)
	start, _ := original.Span()
	l.Body = &syntax.ParenExpr{
		Lparen: start,
		X: &syntax.CondExpr{
			If:    start,
			Cond:  &syntax.Ident{NamePos: start, Name: builtins.BuildingName},
			True:  expr(l.Body),
			False: original,
		},
		Rparen: start,
	}
}

// plain handles the lambdas inside an expression left as written.
func plain(e syntax.Expr) syntax.Expr {
	if l, ok := e.(*syntax.LambdaExpr); ok {
		lambda(l)
		return l
	}
	if e != nil {
		forEachChild(e, func(c *syntax.Expr) { *c = plain(*c) })
	}
	return e
}

func call(pos syntax.Position, name string, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: name}, Lparen: pos, Args: args, Rparen: pos}
}

// cond rewrites an expression whose truth is tested.
func cond(e syntax.Expr) syntax.Expr {
	e = expr(e)
	if c, ok := e.(*syntax.CallExpr); ok {
		if id, ok := c.Fn.(*syntax.Ident); ok {
			if name, ok := builtins.CompareCondName[id.Name]; ok {
				id.Name = name
				return c
			}
		}
	}
	start, _ := e.Span()
	return call(start, builtins.TruthCheckName, e)
}

// expr rewrites every comparison and truth test in e (lambda bodies get
// their two versions).
func expr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		if name, ok := builtins.CompareName[e.Op]; ok {
			return call(e.OpPos, name, expr(e.X), expr(e.Y))
		}
		switch e.Op {
		case syntax.AND, syntax.OR:
			e.X = cond(e.X)
			e.Y = expr(e.Y)
			return e
		}
	case *syntax.UnaryExpr:
		if e.Op == syntax.NOT && e.X != nil {
			e.X = cond(e.X)
			return e
		}
	case *syntax.CondExpr:
		e.Cond = cond(e.Cond)
		e.True = expr(e.True)
		e.False = expr(e.False)
		return e
	case *syntax.Comprehension:
		e.Body = expr(e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.X = expr(c.X)
			case *syntax.IfClause:
				c.Cond = cond(c.Cond)
			}
		}
		return e
	case *syntax.LambdaExpr:
		lambda(e)
		return e
	}
	if e != nil {
		forEachChild(e, func(c *syntax.Expr) { *c = expr(*c) })
	}
	return e
}

// forEachChild calls fn with the address of each direct sub-expression of
// e (not the names of keyword arguments or assigned variables).
func forEachChild(e syntax.Expr, fn func(*syntax.Expr)) {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		if e.Op != syntax.EQ { // name=value keyword argument: keep the name
			fn(&e.X)
		}
		fn(&e.Y)
	case *syntax.UnaryExpr:
		if e.X != nil {
			fn(&e.X)
		}
	case *syntax.CondExpr:
		fn(&e.Cond)
		fn(&e.True)
		fn(&e.False)
	case *syntax.CallExpr:
		fn(&e.Fn)
		for i := range e.Args {
			fn(&e.Args[i])
		}
	case *syntax.DictExpr:
		for _, x := range e.List {
			if de, ok := x.(*syntax.DictEntry); ok {
				fn(&de.Key)
				fn(&de.Value)
			}
		}
	case *syntax.DictEntry: // the body of a dict comprehension
		fn(&e.Key)
		fn(&e.Value)
	case *syntax.ListExpr:
		for i := range e.List {
			fn(&e.List[i])
		}
	case *syntax.TupleExpr:
		for i := range e.List {
			fn(&e.List[i])
		}
	case *syntax.IndexExpr:
		fn(&e.X)
		fn(&e.Y)
	case *syntax.SliceExpr:
		fn(&e.X)
		for _, p := range []*syntax.Expr{&e.Lo, &e.Hi, &e.Step} {
			if *p != nil {
				fn(p)
			}
		}
	case *syntax.DotExpr:
		fn(&e.X)
	case *syntax.ParenExpr:
		fn(&e.X)
	case *syntax.Comprehension:
		fn(&e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				fn(&c.X)
			case *syntax.IfClause:
				fn(&c.Cond)
			}
		}
	case *syntax.LambdaExpr:
		fn(&e.Body)
	}
}

// hasSite reports whether e has a comparison or truth test outside nested
// lambdas (which get their own versions).
func hasSite(e syntax.Expr) bool {
	found := false
	var walk func(x syntax.Expr)
	walk = func(x syntax.Expr) {
		if found {
			return
		}
		switch x := x.(type) {
		case *syntax.BinaryExpr:
			if _, ok := builtins.CompareName[x.Op]; ok || x.Op == syntax.AND || x.Op == syntax.OR {
				found = true
				return
			}
		case *syntax.UnaryExpr:
			if x.Op == syntax.NOT {
				found = true
				return
			}
		case *syntax.CondExpr:
			found = true
			return
		case *syntax.Comprehension:
			for _, c := range x.Clauses {
				if _, ok := c.(*syntax.IfClause); ok {
					found = true
					return
				}
			}
		case *syntax.LambdaExpr:
			return
		}
		forEachChild(x, func(c *syntax.Expr) { walk(*c) })
	}
	walk(e)
	return found
}

// clone deep-copies an expression tree, so that the two branches of a
// dual expression are distinct nodes for the resolver and compiler.
func clone(e syntax.Expr) syntax.Expr {
	var c syntax.Expr
	switch e := e.(type) {
	case nil:
		return nil
	case *syntax.Ident:
		x := *e
		return &x
	case *syntax.Literal:
		x := *e
		return &x
	case *syntax.BinaryExpr:
		x := *e
		if e.Op == syntax.EQ { // name=value: forEachChild skips the name
			x.X = clone(e.X)
		}
		c = &x
	case *syntax.UnaryExpr:
		x := *e
		c = &x
	case *syntax.CondExpr:
		x := *e
		c = &x
	case *syntax.CallExpr:
		x := *e
		x.Args = append([]syntax.Expr(nil), e.Args...)
		c = &x
	case *syntax.DictExpr:
		x := *e
		x.List = make([]syntax.Expr, len(e.List))
		for i, entry := range e.List {
			if de, ok := entry.(*syntax.DictEntry); ok {
				d := *de
				x.List[i] = &d
			}
		}
		c = &x
	case *syntax.DictEntry:
		x := *e
		c = &x
	case *syntax.ListExpr:
		x := *e
		x.List = append([]syntax.Expr(nil), e.List...)
		c = &x
	case *syntax.TupleExpr:
		x := *e
		x.List = append([]syntax.Expr(nil), e.List...)
		c = &x
	case *syntax.IndexExpr:
		x := *e
		c = &x
	case *syntax.SliceExpr:
		x := *e
		c = &x
	case *syntax.DotExpr:
		x := *e
		x.Name = clone(e.Name).(*syntax.Ident)
		c = &x
	case *syntax.ParenExpr:
		x := *e
		c = &x
	case *syntax.Comprehension:
		x := *e
		x.Clauses = make([]syntax.Node, len(e.Clauses))
		for i, cl := range e.Clauses {
			switch cl := cl.(type) {
			case *syntax.ForClause:
				f := *cl
				f.Vars = clone(cl.Vars)
				x.Clauses[i] = &f
			case *syntax.IfClause:
				f := *cl
				x.Clauses[i] = &f
			}
		}
		c = &x
	case *syntax.LambdaExpr:
		x := *e
		x.Params = make([]syntax.Expr, len(e.Params))
		for i, p := range e.Params {
			x.Params[i] = clone(p)
		}
		c = &x
	default:
		return e
	}
	forEachChild(c, func(child *syntax.Expr) { *child = clone(*child) })
	return c
}

// stmtsHaveSite reports whether statements (not nested defs) test truth
// or compare.
func stmtsHaveSite(ss []syntax.Stmt) bool {
	for _, s := range ss {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			if hasSite(s.RHS) || hasSite(s.LHS) {
				return true
			}
		case *syntax.ExprStmt:
			if hasSite(s.X) {
				return true
			}
		case *syntax.IfStmt, *syntax.WhileStmt:
			return true
		case *syntax.ForStmt:
			if hasSite(s.X) || stmtsHaveSite(s.Body) {
				return true
			}
		case *syntax.ReturnStmt:
			if s.Result != nil && hasSite(s.Result) {
				return true
			}
		}
	}
	return false
}

// cloneStmts deep-copies statements.
func cloneStmts(ss []syntax.Stmt) []syntax.Stmt {
	out := make([]syntax.Stmt, len(ss))
	for i, s := range ss {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			x := *s
			x.LHS, x.RHS = clone(s.LHS), clone(s.RHS)
			out[i] = &x
		case *syntax.ExprStmt:
			x := *s
			x.X = clone(s.X)
			out[i] = &x
		case *syntax.IfStmt:
			x := *s
			x.Cond, x.True, x.False = clone(s.Cond), cloneStmts(s.True), cloneStmts(s.False)
			out[i] = &x
		case *syntax.ForStmt:
			x := *s
			x.Vars, x.X, x.Body = clone(s.Vars), clone(s.X), cloneStmts(s.Body)
			out[i] = &x
		case *syntax.WhileStmt:
			x := *s
			x.Cond, x.Body = clone(s.Cond), cloneStmts(s.Body)
			out[i] = &x
		case *syntax.DefStmt:
			x := *s
			x.Name = clone(s.Name).(*syntax.Ident)
			x.Params = make([]syntax.Expr, len(s.Params))
			for j, p := range s.Params {
				x.Params[j] = clone(p)
			}
			x.Body = cloneStmts(s.Body)
			out[i] = &x
		case *syntax.ReturnStmt:
			x := *s
			x.Result = clone(s.Result)
			out[i] = &x
		case *syntax.BranchStmt:
			x := *s
			out[i] = &x
		default:
			out[i] = s
		}
	}
	return out
}
