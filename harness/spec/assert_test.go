package spec

import (
	"strings"
	"testing"
)

func TestAssertionEval(t *testing.T) {
	vars := map[string]string{
		"start": "0x55d4c0a00000", "end": "0x55d4c0a02000", "text": "0x55d4c0a01234",
		"ten": "10", "big": "0xffffffffffffffff", "hexcaps": "0XFF", "padded": " 12\n", "word": "abc",
	}
	cases := []struct {
		expr string
		ok   bool
		why  string // in the message of a false one
	}{
		{"${start} <= ${text} < ${end}", true, ""},
		{"${start} <= ${end} < ${text}", false, "${start} (94372253138944 = 0x55d4c0a00000) <= ${end} (94372253147136 = 0x55d4c0a02000) < ${text} (94372253143604 = 0x55d4c0a01234) is false"},
		{"${end} - ${start} == 8192", true, ""},
		{"${end} - ${start} == 0x2000 && ${ten} * 3 % 7 == 2", true, ""},
		{"${ten} / 3 == 3 && -${ten} < 0", true, ""},
		{"(${ten} + 2) * 2 == 24", true, ""},
		{"${ten} + 2 * 2 == 14", true, ""},
		{"${big} + 1 == 0x10000000000000000", true, ""}, // no overflow
		{"${big} > 0", true, ""},
		{"${hexcaps} == 255 && ${padded} == 12", true, ""},
		{"${ten} == 11 || ${ten} == 10", true, ""},
		{"${ten} == 11 || ${ten} == 12", false, "${ten} (10) == 11 is false; ${ten} (10) == 12 is false"},
		{"!(${ten} == 10)", false, "negated"},
		{"!(${ten} == 11)", true, ""},
		{"${ten} != 10", false, "${ten} (10) != 10 is false"},
		{"1 < 2 < 3 && 3 > 2 >= 2", true, ""},
		{"1 < 3 < 2", false, "1 < 3 < 2 is false"},
	}
	for _, c := range cases {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Errorf("ParseAssertion(%q): %v", c.expr, err)
			continue
		}
		ok, why, err := a.Eval(vars)
		if err != nil || ok != c.ok || !strings.Contains(why, c.why) || (c.ok && why != "") {
			t.Errorf("%q: ok=%v why=%q err=%v, want ok=%v why containing %q", c.expr, ok, why, err, c.ok, c.why)
		}
	}
}

func TestAssertionErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"${ten}", "is a number, not a condition"},
		{"${ten} + ", "ends where a number"},
		{"(${ten} == 1", "missing )"},
		{"${ten} == 1 && 3", "joins conditions, not numbers"},
		{"(1 == 1) + 2 == 3", "works on numbers"},
		{"(1 < 2) == (2 < 3)", "compare numbers, not conditions"},
		{"!3", "negates a condition"},
		{"${ten} = 10", `unexpected "="`},
		{"0x == 1", "not an integer"},
		{"12abc == 1", "not an integer"},
		{"${bad name} == 1", "${name}"},
		{"1 == 1 1", `unexpected "1"`},
	} {
		if _, err := ParseAssertion(c.expr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAssertion(%q) = %v, want an error containing %q", c.expr, err, c.want)
		}
	}
	vars := map[string]string{"word": "abc", "zero": "0"}
	for _, c := range []struct{ expr, want string }{
		{"${word} == 1", `${word} is "abc", not an integer`},
		{"${missing} == 1", "${missing} is used before"},
		{"1 / ${zero} == 1", "division by zero"},
		{"1 % ${zero} == 1", "division by zero"},
	} {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Eval(vars); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Eval(%q) = %v, want an error containing %q", c.expr, err, c.want)
		}
	}
}

// What stdout, content and wait_log capture is usable by the patterns and
// steps after them, and an assert step is parsed once, when the spec is.
func TestCapturesOfNewSteps(t *testing.T) {
	text := `name: x
steps:
  - run: 'echo pid $$'
    stdout: '^pid (?P<pid>[0-9]+)$'
  - read: /proc/sys/kernel/pid_max
    content: '^(?P<max>[0-9]+)$'
  - wait_log: '^event (?P<n>[0-9]+) from ${pid}$'
    log: ['^event ${n} from ${pid}$']
  - assert: '1 < ${pid} < ${max} && ${n} >= 0'
  - run: [kill, '${pid}']
`
	s, err := Parse(t.TempDir()+"/test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Steps[3]; st.Kind() != StepAssert || st.Assertion == nil || st.String() != "assert 1 < ${pid} < ${max} && ${n} >= 0" {
		t.Errorf("step 4: kind %s, parsed %v, %q", st.Kind(), st.Assertion != nil, st.String())
	}
	if st := s.Steps[2]; st.Kind() != StepWaitLog || st.Timeout.Std().Seconds() != 30 {
		t.Errorf("step 3: kind %s, timeout %s; want wait_log with the default 30s", st.Kind(), st.Timeout.Std())
	}
}
