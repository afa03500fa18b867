package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder maps a YAML node tree onto the config structs by their yaml
// tags. It is written here rather than left to yaml.Node.Decode so that
// every error, unknown keys included, carries the line and column of the
// node at fault, and so that all errors are reported at once (nginx -t
// stops at the first).
type decoder struct {
	file string
	errs *Errors
	pos  map[string]Pos
}

// Pos is where a value came from: a place in the configuration file, or
// an environment variable.
type Pos struct {
	Line, Col int
	env       string
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs.add(d.file, n.Line, n.Column, fmt.Sprintf(format, args...))
}

// decode fills v (addressable) from n; path names the value for
// validation messages ("upstreams.php.backends[0]").
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.pos[path] = Pos{Line: n.Line, Col: n.Column}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	if s, ok := v.Addr().Interface().(scalar); ok {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "%s: want a scalar, got a %s", path, kindName(n))
			return
		}
		if err := s.parse(n.Value); err != nil {
			d.errorf(n, "%s: %v", path, err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			setDefaults(v) // allocates
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if d.scalar(n, path, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.scalar(n, path, "true or false") {
			return
		}
		switch n.Value {
		case "true", "yes", "on":
			v.SetBool(true)
		case "false", "no", "off":
			v.SetBool(false)
		default:
			d.errorf(n, "%s: want true or false, got %q", path, n.Value)
		}
	case reflect.Int, reflect.Int64:
		if !d.scalar(n, path, "an integer") {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			d.errorf(n, "%s: want an integer, got %q", path, n.Value)
			return
		}
		v.SetInt(i)
	default:
		panic("config: no decoder for " + v.Type().String())
	}
}

// scalar reports whether n is a scalar, logging an error when it is not.
func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: want %s, got a %s", path, want, kindName(n))
		return false
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "scalar"
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping, got a %s", nonEmpty(path), kindName(n))
		return
	}
	fields := fieldsByKey(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, "unknown key %q in %s (known: %s)", k.Value, nonEmpty(path), knownKeys(fields))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.Field(idx), join(path, k.Value))
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
		// A single string where a list is expected: a list of one.
		n = &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{n}}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: want a list, got a %s", path, kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		setDefaults(out.Index(i))
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping, got a %s", path, kindName(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.errorf(k, "%s: keys must be non-empty strings", path)
			continue
		}
		if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			d.errorf(k, "duplicate key %q", k.Value)
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		setDefaults(e)
		d.decode(val, e, join(path, k.Value))
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nonEmpty(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// fieldsByKey maps the yaml keys of struct type t to field indexes.
func fieldsByKey(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		if key := yamlKey(t.Field(i)); key != "" {
			m[key] = i
		}
	}
	return m
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" {
		return ""
	}
	return key
}

func knownKeys(fields map[string]int) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// setDefaults fills v's fields from their `default` tags, recursively
// through nested structs (not through pointers, maps or slices: those
// get their defaults when the file creates an element). A nil pointer v
// is first pointed at a new value.
func setDefaults(v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			setDefaults(fv)
			continue
		}
		def, ok := f.Tag.Lookup("default")
		if !ok || def == "" {
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(def), &n); err != nil || len(n.Content) == 0 {
			panic("config: bad default tag on " + f.Name)
		}
		var errs Errors
		d := decoder{errs: &errs, pos: map[string]Pos{}}
		d.decode(n.Content[0], fv, f.Name)
		if len(errs) > 0 {
			panic("config: bad default tag on " + f.Name + ": " + errs.Error())
		}
	}
}

// withDefaults returns a new T with its defaults set.
func withDefaults[T any]() *T {
	p := new(T)
	setDefaults(reflect.ValueOf(p))
	return p
}
