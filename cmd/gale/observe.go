package main

import (
	"log/slog"

	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/reactor"
)

// wireObservability connects the access log (cfg.Log.Access,
// cfg.Log.AccessFormat) and the admin listener (cfg.Admin: /metrics,
// /healthz, /readyz) to the reactor configuration, and returns what stops
// them.
//
// MERGE POINT (ops-observe): that branch adds the access log fields of
// reactor.Config, the admin listener, and the flags -access-log,
// -access-log-format, -log-format and -admin. Connect them here: set
// rc's access log fields from cfg.Log, start the admin listener on
// cfg.Admin; and in applyFlags (configure.go) map those flags onto
// cfg.Log.Access, cfg.Log.AccessFormat, cfg.Log.Format and cfg.Admin. The
// error log format (cfg.Log.Format) is already applied by newLogger.
func wireObservability(cfg *config.Config, rc *reactor.Config, log *slog.Logger) (stop func(), err error) {
	_ = rc
	if cfg.Log.Access != "off" {
		log.Warn("log.access is set but this build has no access log yet", "access", cfg.Log.Access)
	}
	if cfg.Admin != "" {
		log.Warn("admin is set but this build has no admin listener yet", "admin", cfg.Admin)
	}
	return func() {}, nil
}
