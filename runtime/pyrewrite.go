package runtime

import (
	"strconv"

	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/builtins/python"
)

// pythonRewrite gives scripts Python's string formatting and the Python
// methods Starlark's types lack, everywhere (callbacks included):
//
//	x % y              becomes  __qstar_mod__(x, y)        printf-style formatting when x is a str
//	x %= y             becomes  x = __qstar_mod__(x, y)
//	x.format(...)      becomes  __qstar_method__("format", x)(...)  (likewise decode, encode, copy, ...)
//
// unless x or y is a number literal (and x no string literal). The hooks fall back to Starlark's own
// operator and methods for other values, so ints, series and user
// objects behave as before. Positions are kept.
func pythonRewrite(f *syntax.File) {
	var stmts func([]syntax.Stmt)
	var expr func(syntax.Expr) syntax.Expr
	expr = func(e syntax.Expr) syntax.Expr {
		if e == nil {
			return nil
		}
		switch x := e.(type) {
		case *syntax.BinaryExpr:
			if x.Op == syntax.PERCENT && needsFormatting(x) {
				return call(x.OpPos, python.ModName, expr(x.X), expr(x.Y))
			}
		case *syntax.CallExpr:
			if dot, ok := x.Fn.(*syntax.DotExpr); ok && methodShimmed[dot.Name.Name] {
				// The method is looked up by the hook and called from
				// here, so builtins still see the script's call site.
				x.Fn = call(dot.Dot, python.MethodName, stringLit(dot.Dot, dot.Name.Name), expr(dot.X))
				for i, a := range x.Args {
					x.Args[i] = expr(a)
				}
				return x
			}
		case *syntax.LambdaExpr:
			for i, p := range x.Params {
				x.Params[i] = expr(p)
			}
		}
		forEachChild(e, func(c *syntax.Expr) { *c = expr(*c) })
		return e
	}
	stmts = func(ss []syntax.Stmt) {
		for _, s := range ss {
			switch s := s.(type) {
			case *syntax.AssignStmt:
				s.RHS = expr(s.RHS)
				if ix, ok := s.LHS.(*syntax.IndexExpr); ok {
					ix.X, ix.Y = expr(ix.X), expr(ix.Y)
				}
				if s.Op == syntax.PERCENT_EQ {
					if id, ok := s.LHS.(*syntax.Ident); ok {
						s.Op = syntax.EQ
						s.RHS = call(s.OpPos, python.ModName, &syntax.Ident{NamePos: id.NamePos, Name: id.Name}, s.RHS)
					}
				}
			case *syntax.ExprStmt:
				s.X = expr(s.X)
			case *syntax.IfStmt:
				s.Cond = expr(s.Cond)
				stmts(s.True)
				stmts(s.False)
			case *syntax.ForStmt:
				s.X = expr(s.X)
				stmts(s.Body)
			case *syntax.WhileStmt:
				s.Cond = expr(s.Cond)
				stmts(s.Body)
			case *syntax.DefStmt:
				for i, p := range s.Params {
					s.Params[i] = expr(p)
				}
				stmts(s.Body)
			case *syntax.ReturnStmt:
				s.Result = expr(s.Result)
			}
		}
	}
	stmts(f.Stmts)
}

var methodShimmed = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range python.MethodNames() {
		m[n] = true
	}
	return m
}()

// needsFormatting says whether x % y may be string formatting: always
// when x is a string literal, never when either side is a number literal
// (key % 10 stays Starlark's own operator, with no call).
func needsFormatting(x *syntax.BinaryExpr) bool {
	if lit, ok := x.X.(*syntax.Literal); ok && lit.Token == syntax.STRING {
		return true
	}
	return !isNumberLiteral(x.X) && !isNumberLiteral(x.Y)
}

func isNumberLiteral(e syntax.Expr) bool {
	lit, ok := e.(*syntax.Literal)
	return ok && (lit.Token == syntax.INT || lit.Token == syntax.FLOAT)
}

func stringLit(pos syntax.Position, s string) *syntax.Literal {
	return &syntax.Literal{Token: syntax.STRING, TokenPos: pos, Raw: strconv.Quote(s), Value: s}
}
