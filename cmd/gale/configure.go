package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gale-http/gale/internal/config"
)

// loadConfig builds the configuration to serve: the -config file (or the
// defaults), then the GALE_* environment, then the flags given on the
// command line, then validation. Without -config, -root or -fastcgi (from
// flags or environment) it is the built-in demo: its site and its FastCGI
// application, spawned like any configured backend.
func (st *state) loadConfig() (*config.Config, error) {
	o := st.o
	var cfg *config.Config
	if o.config != "" {
		var err error
		if cfg, err = config.Load(o.config); err != nil {
			return nil, err
		}
	} else if st.wsgi != nil {
		cfg = config.Default()
		st.wsgi.apply(cfg)
	} else {
		cfg = config.Default()
		if o.root == "" && os.Getenv("GALE_ROOT") == "" && o.proxy == "" {
			dir, err := st.demoRoot()
			if err != nil {
				return nil, err
			}
			cfg.SetRoot(dir)
		}
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return nil, err
	}
	if err := st.applyFlags(cfg); err != nil {
		return nil, err
	}
	if o.config == "" && len(cfg.Upstreams) == 0 && st.demoDir != "" && o.proxy == "" {
		if err := st.addDemoApp(cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyFlags applies the flags given on the command line (not the
// defaults of those that were not): they override file and environment.
func (st *state) applyFlags(cfg *config.Config) error {
	o, set := st.o, st.set
	if set["listen"] {
		cfg.Listen = o.listen
	}
	if set["loops"] {
		cfg.Loops = o.loops
	}
	if set["log-level"] {
		cfg.Log.Level = o.logLevel
	}
	if set["shutdown-timeout"] {
		cfg.ShutdownTimeout = config.Duration(o.shutdownTimeout)
	}
	if set["root"] {
		cfg.SetRoot(o.root)
	}
	if set["dir-listing"] {
		for _, vh := range cfg.VHosts {
			vh.DirListing = o.dirListing
		}
	}
	if set["fastcgi"] {
		if err := cfg.SetFastCGI(o.fastcgi); err != nil {
			return fmt.Errorf("-fastcgi: %w", err)
		}
	}
	if set["proxy"] {
		files := set["root"] || cfg.DefaultVHost() >= 0 && cfg.VHosts[cfg.DefaultVHost()].Root != ""
		if err := cfg.SetProxy(o.proxy, files); err != nil {
			return fmt.Errorf("-proxy: %w", err)
		}
	}
	if set["log-format"] {
		cfg.Log.Format = o.logFormat
	}
	if set["access-log"] {
		cfg.Log.Access = o.accessLog
		switch o.accessLog {
		case "-":
			cfg.Log.Access = "stdout"
		case "":
			cfg.Log.Access = "off"
		}
	}
	if set["access-log-format"] {
		cfg.Log.AccessFormat = o.accessFormat
	}
	if set["admin"] {
		cfg.Admin = o.admin
	}
	if set["max-conns"] {
		cfg.Limits.MaxConns = o.maxConns
	}
	if set["max-requests"] {
		cfg.Limits.MaxRequestsPerConn = o.maxRequests
	}
	if set["fastcgi-max-conns"] {
		for _, u := range cfg.Upstreams {
			u.MaxConns = o.fcgiMaxConns
		}
	}
	return nil
}

// loopsFor is the number of event loops cfg asks for.
func loopsFor(cfg *config.Config) int {
	if cfg.Loops > 0 {
		return cfg.Loops
	}
	return runtime.NumCPU()
}

// demoRoot extracts the embedded demo site once per process.
func (st *state) demoRoot() (string, error) {
	if st.demoDir == "" {
		dir, err := extractDemo()
		if err != nil {
			return "", err
		}
		st.demoDir = dir
	}
	return st.demoDir, nil
}

// addDemoApp adds the demo FastCGI application (this binary's fcgi-demo
// subcommand on a unix socket in a private directory) at /app/.
func (st *state) addDemoApp(cfg *config.Config) error {
	if st.demoSockDir == "" {
		dir, err := os.MkdirTemp("", "gale-app-") // 0700: only we reach the socket
		if err != nil {
			return fmt.Errorf("demo app: %w", err)
		}
		st.demoSockDir = dir
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo app: %w", err)
	}
	return cfg.AddDemoApp(self, filepath.Join(st.demoSockDir, "demo.sock"))
}

// cleanup removes the demo's temporary directories.
func (st *state) cleanup() {
	for _, d := range []string{st.demoDir, st.demoSockDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
}

// printTestResult is `gale -t`: every error on its own line, FILE:LINE:COL
// first, then a verdict like nginx -t's.
func printTestResult(file string, err error) error {
	if file == "" {
		file = "(flags and environment)"
	}
	if err == nil {
		fmt.Fprintf(os.Stderr, "gale: configuration %s test is successful\n", file)
		return nil
	}
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e.Error())
		}
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Fprintf(os.Stderr, "gale: configuration %s test failed\n", file)
	return errExit
}

// errExit makes gale exit with status 1 after it printed its errors itself.
var errExit = errors.New("exit status 1")
