package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The wsgi-flask scenario: a Flask "Hello, World!" served by `gale wsgi`,
// Debian's /usr/bin/python3 with python3-flask (make bench-deps).
const (
	wsgiPython  = "/usr/bin/python3"
	wsgiWorkers = 4 // as php-fpm's pm.max_children in php-hello
	wsgiAppName = "benchapp:app"
	wsgiURLPath = "/hello"
	wsgiApp     = `from flask import Flask

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "` + helloBody + `"
`
)

// writeWSGIApp writes the Flask application into dir, after checking that
// the interpreter has Flask (else the scenario is n/a with the reason).
func writeWSGIApp(dir string) error {
	if err := checkFlask(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchapp.py"), []byte(wsgiApp), 0o644)
}

// checkFlask reports why Debian's python3 cannot import Flask, or nil.
func checkFlask() error {
	if out, err := exec.Command(wsgiPython, "-c", "import flask").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import flask (apt-get install python3-flask): %v: %s", wsgiPython, err, firstLines(string(out), 1))
	}
	return nil
}
