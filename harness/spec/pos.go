package spec

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Every error in a spec is placed at the YAML node that is wrong: the key
// whose value is bad, or the list item (a pattern, a module directory)
// that is. The spec is decoded from its yaml.Node tree, which keeps the
// line and column of every node.

// pos is a place in a spec file; line and col count from 1 (0: unknown).
type pos struct{ line, col int }

func nodePos(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// at returns the position of the node at path: keys of nested mappings,
// and indexes ("0") of sequence items. A mapping key is placed at the key,
// an item at the item. A path that goes further than the document ends at
// the deepest node found (a pattern written as a string has no match:
// key; the item is the place), or at line 1.
func (s *Spec) at(path ...string) pos {
	n, p := s.root, pos{line: 1}
	for _, key := range path {
		if n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n == nil {
			break
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					p, next = nodePos(n.Content[i]), n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				p = nodePos(next)
			}
		}
		n = next
	}
	return p
}

// stepAt is at for a key (and what follows) of step i.
func (s *Spec) stepAt(i int, path ...string) pos {
	return s.at(append([]string{"steps", strconv.Itoa(i)}, path...)...)
}

// posError is an error at a node, returned by the UnmarshalYAML methods
// and by the key check.
type posError struct {
	pos pos
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.pos.line, e.msg) }

// freeForm are the types whose mappings take keys of the user's choosing
// (a model's parameters).
var freeForm = map[reflect.Type]bool{reflectTypeOf[Model](): true}

// maxDepth bounds the key check's descent (aliases may nest deeply).
const maxDepth = 64

// unknownKeys returns an error for every mapping key under n, at any
// depth, that is not a key of type t at its place: the yaml tags of a
// struct, of its fields' types below them, of a slice's element type in
// a sequence. Each lists the keys valid there, sorted, and names no Go
// type. Nodes of the wrong kind are left to the decoder.
func unknownKeys(n *yaml.Node, t reflect.Type, depth int) []*posError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || depth > maxDepth || freeForm[t] {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return unknownKeys(n.Alias, t, depth+1)
	}
	var out []*posError
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				// <<: *defaults merges a mapping, or a list of them.
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						out = append(out, unknownKeys(m, t, depth+1)...)
					}
				} else {
					out = append(out, unknownKeys(v, t, depth+1)...)
				}
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				out = append(out, &posError{nodePos(k), fmt.Sprintf("field %s not found (valid: %s)", k.Value, strings.Join(yamlKeys(t), ", "))})
				continue
			}
			out = append(out, unknownKeys(v, ft, depth+1)...)
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for _, item := range n.Content {
			out = append(out, unknownKeys(item, t.Elem(), depth+1)...)
		}
	}
	return out
}

// yamlFields maps the yaml tags of struct type t to their fields' types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = t.Field(i).Type
		}
	}
	return fields
}

// yamlKeys are the yaml tags of struct type t, sorted.
func yamlKeys(t reflect.Type) []string {
	var names []string
	for name := range yamlFields(t) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

var (
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	intoType = regexp.MustCompile(`^(cannot unmarshal .*) into (\S+)$`)
)

// goTypeWords says in the spec's terms what a Go type the decoder names
// holds; other types are described by their kind (plainType).
var goTypeWords = map[string]string{
	"spec.stepFields": "a step (a mapping such as insmod: NAME)",
	"spec.logFields":  "a pattern, or a mapping such as {match: REGEX, level: info}",
}

// plainType describes a Go type the decoder names ("[]spec.Step") in the
// words of a spec ("a list").
func plainType(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	if w, ok := goTypeWords[goType]; ok {
		return w
	}
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "a mapping"
}

// fromYAML turns yaml.v3 errors ("yaml: line 3: ...", TypeError lists,
// posErrors of the UnmarshalYAML methods) into positioned Errors.
func fromYAML(file string, err error) []*Error {
	var pe *posError
	if errors.As(err, &pe) {
		return []*Error{{File: file, Line: pe.pos.line, Column: pe.pos.col, Msg: pe.msg}}
	}
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []*Error
	for _, m := range msgs {
		line := 1
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		if sm := intoType.FindStringSubmatch(m); sm != nil {
			m = sm[1] + ": want " + plainType(sm[2])
		}
		errs = append(errs, &Error{File: file, Line: line, Msg: m})
	}
	return errs
}

// joinErrors sorts errs by their place in the file and joins them.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
