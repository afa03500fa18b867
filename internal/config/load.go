package config

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Default returns a configuration with every default applied and nothing
// to serve yet (no vhosts, no upstreams).
func Default() *Config {
	c := withDefaults[Config]()
	c.pos = map[string]Pos{}
	return c
}

// Load reads and decodes the file at path. It checks the syntax, the keys
// and the value types; Validate checks the meaning.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// yamlLine finds the line number in a yaml.v3 syntax error, which has no
// column.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes data, naming it file in errors.
func Parse(file string, data []byte) (*Config, error) {
	c := Default()
	c.file = file
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, Errors{{File: file, Line: line, Col: 1, Msg: "syntax: " + msg}}
	}
	if len(doc.Content) == 0 || len(bytes.TrimSpace(data)) == 0 {
		return c, nil // an empty file: Validate says what is missing
	}
	var errs Errors
	d := decoder{file: file, errs: &errs, pos: c.pos}
	d.decode(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	if len(errs) > 0 {
		// Report the meaning errors too, so one `gale -t` shows all it
		// can; a value that did not decode kept its default, so what it
		// would add at the same place is left out.
		at := map[Pos]bool{}
		for _, e := range errs {
			at[Pos{Line: e.Line, Col: e.Col}] = true
		}
		var verrs Errors
		if err, ok := c.Validate().(Errors); ok {
			verrs = err
		}
		for _, e := range verrs {
			if !at[Pos{Line: e.Line, Col: e.Col}] {
				errs = append(errs, e)
			}
		}
		return nil, errs.err()
	}
	return c, nil
}
