package spec

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"
)

// Assertion is an assert step's expression, parsed: integers (decimal or
// 0x hex) and captured values (${name}) combined with + - * / %,
// compared with < <= > >= == != (a chain "a <= x < b" holds when each
// comparison does), joined with && || and negated with !. Arithmetic is
// exact (no overflow: addresses near 2^64 compare as they should).
type Assertion struct {
	src  string
	root node
}

// ParseAssertion parses an assert step's expression; it must be a
// condition (a comparison, or conditions joined with && || !), not a bare
// number.
func ParseAssertion(src string) (*Assertion, error) {
	p := &exprParser{src: src}
	p.next()
	n, err := p.or()
	if err == nil && p.tok.kind != tokEnd {
		err = p.errorf("unexpected %q", p.tok.text)
	}
	if err != nil {
		return nil, err
	}
	if !n.isBool() {
		return nil, fmt.Errorf("%q is a number, not a condition: compare it (${x} > 0)", src)
	}
	return &Assertion{src: src, root: n}, nil
}

// Refs lists the captured names the expression uses.
func (a *Assertion) Refs() []string { return Refs(a.src) }

// Eval evaluates the expression over the captured values. When it is
// false, why shows each comparison with the values put in; err is set
// when a value is missing or not an integer, or on a division by zero.
func (a *Assertion) Eval(vars map[string]string) (ok bool, why string, err error) {
	e := &evaluator{vars: vars}
	v := a.root.eval(e)
	if e.err != nil {
		return false, "", e.err
	}
	if v.b {
		return true, "", nil
	}
	return false, strings.Join(e.trace, "; "), nil
}

// value is an integer or a truth value (a node's type is fixed when
// parsed: isBool).
type value struct {
	n *big.Int
	b bool
}

type evaluator struct {
	vars  map[string]string
	err   error
	trace []string // the comparisons evaluated, with their values
}

func (e *evaluator) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

type node interface {
	eval(*evaluator) value
	isBool() bool
}

type numNode struct{ n *big.Int }

func (n numNode) eval(*evaluator) value { return value{n: n.n} }
func (numNode) isBool() bool            { return false }

type refNode struct{ name string }

func (r refNode) eval(e *evaluator) value {
	s, ok := e.vars[r.name]
	if !ok {
		e.fail("${%s} is used before a pattern captured it", r.name)
		return value{n: new(big.Int)}
	}
	n, ok := parseInt(strings.TrimSpace(s))
	if !ok {
		e.fail("${%s} is %q, not an integer (decimal or 0x hex)", r.name, s)
		return value{n: new(big.Int)}
	}
	return value{n: n}
}
func (refNode) isBool() bool { return false }

type arithNode struct {
	op   string
	l, r node
}

func (a arithNode) eval(e *evaluator) value {
	l, r := a.l.eval(e).n, a.r.eval(e).n
	out := new(big.Int)
	switch a.op {
	case "+":
		out.Add(l, r)
	case "-":
		out.Sub(l, r)
	case "*":
		out.Mul(l, r)
	case "/", "%":
		if r.Sign() == 0 {
			e.fail("division by zero in %s", a.op)
			return value{n: out}
		}
		if a.op == "/" {
			out.Quo(l, r)
		} else {
			out.Rem(l, r)
		}
	}
	return value{n: out}
}
func (arithNode) isBool() bool { return false }

type negNode struct{ x node }

func (n negNode) eval(e *evaluator) value { return value{n: new(big.Int).Neg(n.x.eval(e).n)} }
func (negNode) isBool() bool              { return false }

// cmpNode is a chain of comparisons: operands[0] ops[0] operands[1] ...
type cmpNode struct {
	operands []node
	srcs     []string
	ops      []string
}

func (c cmpNode) eval(e *evaluator) value {
	vals := make([]*big.Int, len(c.operands))
	for i, o := range c.operands {
		vals[i] = o.eval(e).n
	}
	ok := true
	var parts []string
	for i, op := range c.ops {
		k := vals[i].Cmp(vals[i+1])
		holds := map[string]bool{"<": k < 0, "<=": k <= 0, ">": k > 0, ">=": k >= 0, "==": k == 0, "!=": k != 0}[op]
		ok = ok && holds
		parts = append(parts, show(c.srcs[i], vals[i]), op)
	}
	parts = append(parts, show(c.srcs[len(c.srcs)-1], vals[len(vals)-1]))
	if !ok {
		e.trace = append(e.trace, strings.Join(parts, " ")+" is false")
	}
	return value{b: ok}
}
func (cmpNode) isBool() bool { return true }

// show prints an operand with its value when they differ
// ("${start_code} (0x400000)"), in hex when large.
func show(src string, v *big.Int) string {
	s := v.String()
	if v.CmpAbs(big.NewInt(1<<20)) >= 0 {
		s += fmt.Sprintf(" = %#x", v) // addresses read best in hex, counts in decimal
	}
	if n, ok := parseInt(src); ok && n.Cmp(v) == 0 {
		return src
	}
	return src + " (" + s + ")"
}

type logicNode struct {
	op   string
	l, r node
}

func (l logicNode) eval(e *evaluator) value {
	a := l.l.eval(e).b
	if l.op == "&&" && !a {
		return value{b: false}
	}
	if l.op == "||" && a {
		return value{b: true}
	}
	return value{b: l.r.eval(e).b}
}
func (logicNode) isBool() bool { return true }

type notNode struct{ x node }

func (n notNode) eval(e *evaluator) value {
	v := !n.x.eval(e).b
	if !v {
		e.trace = append(e.trace, "a negated condition holds")
	}
	return value{b: v}
}
func (notNode) isBool() bool { return true }

func parseInt(s string) (*big.Int, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, s = 16, s[2:]
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok || s == "" {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokNum
	tokRef
	tokOp
)

type token struct {
	kind tokKind
	text string
	at   int
}

// exprParser is a recursive-descent parser over the tokens of src.
type exprParser struct {
	src string
	pos int
	tok token
	err error
}

var operators = []string{"<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "(", ")", "!"}

func (p *exprParser) next() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
	start := p.pos
	rest := p.src[p.pos:]
	switch {
	case rest == "":
		p.tok = token{tokEnd, "", start}
	case strings.HasPrefix(rest, "${"):
		end := strings.IndexByte(rest, '}')
		if end < 0 || !refName.MatchString(rest[:end+1]) {
			p.tok, p.err = token{tokEnd, "", start}, p.errorf("a reference is ${name} (letters, digits, _)")
			return
		}
		p.tok, p.pos = token{tokRef, rest[2:end], start}, p.pos+end+1
	case rest[0] >= '0' && rest[0] <= '9':
		end := 0
		for end < len(rest) && (unicode.IsLetter(rune(rest[end])) || unicode.IsDigit(rune(rest[end]))) {
			end++
		}
		p.tok, p.pos = token{tokNum, rest[:end], start}, p.pos+end
	default:
		for _, op := range operators {
			if strings.HasPrefix(rest, op) {
				p.tok, p.pos = token{tokOp, op, start}, p.pos+len(op)
				return
			}
		}
		p.tok, p.err = token{tokEnd, "", start}, p.errorf("unexpected %q", rest[:1])
	}
}

func (p *exprParser) errorf(format string, args ...any) error {
	if p.err != nil {
		return p.err
	}
	return fmt.Errorf("assert %q, at column %d: %s", p.src, p.tok.at+1, fmt.Sprintf(format, args...))
}

func (p *exprParser) isOp(ops ...string) bool {
	if p.tok.kind != tokOp {
		return false
	}
	for _, o := range ops {
		if p.tok.text == o {
			return true
		}
	}
	return false
}

func (p *exprParser) or() (node, error) {
	return p.logic("||", p.and)
}

func (p *exprParser) and() (node, error) {
	return p.logic("&&", p.not)
}

func (p *exprParser) logic(op string, sub func() (node, error)) (node, error) {
	l, err := sub()
	for err == nil && p.isOp(op) {
		p.next()
		var r node
		if r, err = sub(); err == nil {
			if !l.isBool() || !r.isBool() {
				return nil, p.errorf("%s joins conditions, not numbers: compare them first", op)
			}
			l = logicNode{op, l, r}
		}
	}
	return l, err
}

func (p *exprParser) not() (node, error) {
	if p.isOp("!") {
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		if !x.isBool() {
			return nil, p.errorf("! negates a condition, not a number")
		}
		return notNode{x}, nil
	}
	return p.cmp()
}

func (p *exprParser) cmp() (node, error) {
	start := p.tok.at
	first, err := p.sum()
	if err != nil {
		return nil, err
	}
	c := cmpNode{operands: []node{first}, srcs: []string{strings.TrimSpace(p.src[start:p.tok.at])}}
	for p.isOp("<", "<=", ">", ">=", "==", "!=") {
		c.ops = append(c.ops, p.tok.text)
		p.next()
		start = p.tok.at
		o, err := p.sum()
		if err != nil {
			return nil, err
		}
		c.operands = append(c.operands, o)
		c.srcs = append(c.srcs, strings.TrimSpace(p.src[start:p.tok.at]))
	}
	if len(c.ops) == 0 {
		return first, nil
	}
	for _, o := range c.operands {
		if o.isBool() {
			return nil, p.errorf("compare numbers, not conditions (use && or ||)")
		}
	}
	return c, nil
}

func (p *exprParser) sum() (node, error) {
	return p.arith([]string{"+", "-"}, p.term)
}

func (p *exprParser) term() (node, error) {
	return p.arith([]string{"*", "/", "%"}, p.unary)
}

func (p *exprParser) arith(ops []string, sub func() (node, error)) (node, error) {
	l, err := sub()
	for err == nil && p.isOp(ops...) {
		op := p.tok.text
		p.next()
		var r node
		if r, err = sub(); err == nil {
			if l.isBool() || r.isBool() {
				return nil, p.errorf("%s works on numbers, not conditions", op)
			}
			l = arithNode{op, l, r}
		}
	}
	return l, err
}

func (p *exprParser) unary() (node, error) {
	if p.isOp("-") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return negNode{x}, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (node, error) {
	if p.err != nil {
		return nil, p.err
	}
	switch {
	case p.tok.kind == tokNum:
		n, ok := parseInt(p.tok.text)
		if !ok {
			return nil, p.errorf("%q is not an integer (decimal or 0x hex)", p.tok.text)
		}
		p.next()
		return numNode{n}, p.err
	case p.tok.kind == tokRef:
		name := p.tok.text
		p.next()
		return refNode{name}, p.err
	case p.isOp("("):
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, p.errorf("missing )")
		}
		p.next()
		return x, p.err
	case p.tok.kind == tokEnd:
		return nil, p.errorf("the expression ends where a number or ${name} should be")
	}
	return nil, p.errorf("unexpected %q where a number or ${name} should be", p.tok.text)
}
