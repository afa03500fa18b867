package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gale-http/gale/reactor"
)

// newErrorLogger builds the error log: log/slog to w, as text or JSON.
func newErrorLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// reopenOnUSR1 reopens the access log on every SIGUSR1 (logrotate's
// postrotate), until the returned stop function is called.
func reopenOnUSR1(srv *reactor.Server, log *slog.Logger) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sig:
				if err := srv.ReopenAccessLog(); err != nil {
					log.Error("reopening the access log", "err", err)
				} else {
					log.Info("access log reopened")
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}
