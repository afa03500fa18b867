package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/gale-http/gale/handlers"
)

// guard checks what protects a site: the real client address, connection
// and rate limits, authentication, error pages, body limits and
// compression.
func (v *validator) guard() {
	c := v.c
	if r := c.RealIP; r != nil {
		if len(r.From) == 0 {
			v.errorf("real_ip.from", "real_ip.from: list the trusted proxies (CIDRs or addresses)")
		}
		for j, a := range r.From {
			if _, err := ParsePrefix(a); err != nil {
				p := fmt.Sprintf("real_ip.from[%d]", j)
				v.errorf(p, "%s: %v", p, err)
			}
		}
		v.headerName("real_ip.header", r.Header, ownHeaders)
	}
	if lc := c.LimitConn; lc != nil {
		if lc.Max <= 0 {
			v.errorf("limit_conn.max", "limit_conn.max: must be positive")
		}
		v.refusal("limit_conn.status", lc.Status)
		if lc.Slots <= 0 {
			v.errorf("limit_conn.slots", "limit_conn.slots: must be positive")
		}
	}
	for i, vh := range c.VHosts {
		if vh == nil {
			continue
		}
		p := fmt.Sprintf("vhosts[%d]", i)
		v.errorPages(p+".error_pages", vh.ErrorPages)
		v.compress(p+".compress", vh.Compress)
		for j, loc := range vh.Locations {
			if loc == nil {
				continue
			}
			lp := fmt.Sprintf("%s.locations[%d]", p, j)
			v.errorPages(lp+".error_pages", loc.ErrorPages)
			v.compress(lp+".compress", loc.Compress)
			if loc.Auth != nil {
				loc.Auth.UserFile = v.abs(loc.Auth.UserFile)
				if _, err := handlers.LoadBasicAuth(loc.Auth.Realm, loc.Auth.UserFile); err != nil {
					v.errorf(lp+".auth.user_file", "%s.auth: %v", lp, err)
				}
			}
			if lr := loc.LimitReq; lr != nil {
				if _, err := ParseRate(lr.Rate); err != nil {
					v.errorf(lp+".limit_req.rate", "%s.limit_req.rate: %v", lp, err)
				}
				if lr.Burst < 0 {
					v.errorf(lp+".limit_req.burst", "%s.limit_req.burst: must be 0 or more", lp)
				}
				if lr.Slots <= 0 {
					v.errorf(lp+".limit_req.slots", "%s.limit_req.slots: must be positive", lp)
				}
				v.refusal(lp+".limit_req.status", lr.Status)
			}
		}
	}
}

// refusal checks a limit's status: 503 (nginx's default) or 429.
func (v *validator) refusal(p string, status int) {
	if status != 503 && status != 429 {
		v.errorf(p, "%s: want 503 or 429, got %d", p, status)
	}
}

func (v *validator) errorPages(p string, m map[string]string) {
	if _, err := ErrorPageMap(m); err != nil {
		v.errorf(p, "%s: %v", p, err)
	}
}

func (v *validator) compress(p string, c *Compress) {
	if c == nil {
		return
	}
	for j, cd := range c.Codings {
		if cd != "gzip" && cd != "zstd" {
			cp := fmt.Sprintf("%s.codings[%d]", p, j)
			v.errorf(cp, "%s: want gzip or zstd, got %q", cp, cd)
		}
	}
	if c.Enabled && len(c.Codings) == 0 {
		v.errorf(p+".codings", "%s.codings: name gzip, zstd or both", p)
	}
	for j, t := range c.Types {
		if mt, sub, ok := strings.Cut(t, "/"); !ok || mt == "" || sub == "" || strings.ContainsAny(t, " ;,") {
			tp := fmt.Sprintf("%s.types[%d]", p, j)
			v.errorf(tp, "%s: bad media type %q (want text/html or text/*)", tp, t)
		}
	}
}

// ErrorPageMap parses an error_pages map: statuses 400-599 to absolute
// paths.
func ErrorPageMap(m map[string]string) (map[int]string, error) {
	out := make(map[int]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st, err := strconv.Atoi(k)
		if err != nil || st < 400 || st > 599 {
			return nil, fmt.Errorf("%q: want a status from 400 to 599", k)
		}
		if page := m[k]; page == "" || page[0] != '/' || strings.ContainsAny(page, "?# ") {
			return nil, fmt.Errorf("%d: want a path like /50x.html, got %q", st, page)
		}
		out[st] = m[k]
	}
	return out, nil
}

// ParseRate parses a request rate, "10r/s" or "60r/m", into requests per
// second.
func ParseRate(s string) (float64, error) {
	num, unit, ok := strings.Cut(s, "r/")
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 || (unit != "s" && unit != "m") {
		return 0, fmt.Errorf("bad rate %q (want e.g. 10r/s or 30r/m)", s)
	}
	if unit == "m" {
		n /= 60
	}
	return n, nil
}

// TrustedProxies parses real_ip.from (validated).
func (r *RealIP) TrustedProxies() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range r.From {
		if p, err := ParsePrefix(a); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// MaxBodyCeiling is the largest request body any location takes: the
// parser's limit (each location with less checks its own).
func (c *Config) MaxBodyCeiling() int64 {
	n := int64(c.Limits.MaxBody)
	for _, vh := range c.VHosts {
		if vh == nil {
			continue
		}
		for _, loc := range vh.Locations {
			if loc != nil {
				n = max(n, int64(loc.MaxBody))
			}
		}
	}
	return n
}
