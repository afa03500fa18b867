package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// defaultAdmin is the admin address the healthcheck asks when neither
// -url nor GALE_ADMIN says otherwise.
const defaultAdmin = "127.0.0.1:9145"

// runHealthcheck is `gale healthcheck`: GET the admin /healthz (or -url)
// and succeed only on a 200. Container images have no curl; Docker's
// HEALTHCHECK runs this.
func runHealthcheck(args []string) error {
	fs := flag.NewFlagSet("gale healthcheck", flag.ContinueOnError)
	admin := os.Getenv("GALE_ADMIN")
	if admin == "" {
		admin = defaultAdmin
	}
	url := fs.String("url", "", "URL to GET (default: http://<admin>/healthz)")
	fs.StringVar(&admin, "admin", admin, "admin address of the gale to check (default $GALE_ADMIN, else "+defaultAdmin+")")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	target := *url
	if target == "" {
		target = "http://" + localAddr(admin) + "/healthz"
	}
	c := &http.Client{Timeout: *timeout}
	resp, err := c.Get(target)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s: %s", target, resp.Status, body)
	}
	return nil
}

// localAddr turns a listen address into one to dial: a wildcard or empty
// host becomes the loopback.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
