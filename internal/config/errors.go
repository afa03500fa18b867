package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration, at a position in its file.
type Error struct {
	File      string
	Line, Col int // 0 when the problem has no place in the file (an environment variable)
	Msg       string
}

// Error formats e as FILE:LINE:COL: message, the form editors and CI
// annotations understand.
func (e Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in a configuration, in file order.
type Errors []Error

func (es *Errors) add(file string, line, col int, msg string) {
	*es = append(*es, Error{File: file, Line: line, Col: col, Msg: msg})
}

// Error puts one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	return es
}

// err returns nil for no errors.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}
