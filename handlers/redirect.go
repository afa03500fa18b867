package handlers

import (
	"errors"
	"regexp"
	"strconv"

	"github.com/gale-http/gale/httpcodec"
)

// Redirects answers the requests whose path matches one of its rules with
// a redirect, and hands the others to Next (nginx rewrite ... permanent,
// return 301 https://$host$request_uri). Rules are tried in order; the
// first that matches answers. A rule that does not match costs a literal
// prefix comparison and, past it, one regexp match: no allocation.
type Redirects struct {
	// Next serves the requests no rule matches.
	Next Handler

	rules        []redirectRule
	fallbackHost string
}

type redirectRule struct {
	re      *regexp.Regexp
	literal string // what every match starts with
	status  int    // 0: an internal rewrite (AddRewrite)
	to      []tmplPart
	nsub    int
}

// tmplPart is a piece of a redirect target: literal text, a capture ($1),
// or a variable ($host).
type tmplPart struct {
	lit     string
	capture int // > 0: $N
	v       tmplVar
}

type tmplVar uint8

const (
	varNone       tmplVar = iota
	varHost               // $host: the Host without its port, else the fallback
	varRequestURI         // $request_uri: the target as sent
	varURI                // $uri: the decoded path, escaped again
	varArgs               // $args: the query
	varIsArgs             // $is_args: "?" when there is a query
	varScheme             // $scheme: http (gale serves no TLS itself)
)

var tmplVars = map[string]tmplVar{"host": varHost, "request_uri": varRequestURI, "uri": varURI, "args": varArgs, "is_args": varIsArgs, "scheme": varScheme}

// Add appends a rule: paths matching the regexp match (RE2 syntax, on the
// decoded path) are redirected with status (301, 302, 303, 307 or 308) to
// to, where $1..$9 are match's captures (percent-encoded) and $host,
// $request_uri, $uri, $args, $is_args and $scheme are the request's (nginx's
// meanings; ${name} where letters follow).
func (rd *Redirects) Add(match, to string, status int) error {
	switch status {
	case 301, 302, 303, 307, 308:
	default:
		return errors.New("handlers: redirect status " + strconv.Itoa(status) + " (want 301, 302, 303, 307 or 308)")
	}
	re, err := regexp.Compile(match)
	if err != nil {
		return err
	}
	parts, err := parseTemplate(to, re.NumSubexp())
	if err != nil {
		return err
	}
	literal, _ := re.LiteralPrefix()
	if len(match) == 0 || match[0] != '^' {
		literal = "" // unanchored: the literal may be anywhere
	}
	rd.rules = append(rd.rules, redirectRule{re: re, literal: literal, status: status, to: parts, nsub: re.NumSubexp()})
	return nil
}

// CheckRedirect reports what is wrong with a redirect rule, if anything.
func CheckRedirect(match, to string, status int) error {
	var rd Redirects
	return rd.Add(match, to, status)
}

func parseTemplate(to string, nsub int) ([]tmplPart, error) {
	if to == "" {
		return nil, errors.New("empty redirect target")
	}
	var parts []tmplPart
	lit := []byte{}
	for i := 0; i < len(to); i++ {
		c := to[i]
		if c < ' ' || c == 0x7f {
			return nil, errors.New("control character in redirect target")
		}
		if c != '$' {
			lit = append(lit, c)
			continue
		}
		name, n := "", 0
		switch {
		case i+1 < len(to) && to[i+1] >= '1' && to[i+1] <= '9':
			name, n = to[i+1:i+2], 2
		case i+1 < len(to) && to[i+1] == '{':
			j := i + 2
			for j < len(to) && to[j] != '}' {
				j++
			}
			if j == len(to) {
				return nil, errors.New("unclosed ${ in redirect target")
			}
			name, n = to[i+2:j], j-i+1
		default:
			j := i + 1
			for j < len(to) && (to[j] >= 'a' && to[j] <= 'z' || to[j] == '_') {
				j++
			}
			name, n = to[i+1:j], j-i
		}
		if len(lit) > 0 {
			parts = append(parts, tmplPart{lit: string(lit)})
			lit = lit[:0]
		}
		if name != "" && name[0] >= '1' && name[0] <= '9' && len(name) == 1 {
			if int(name[0]-'0') > nsub {
				return nil, errors.New("$" + name + " in redirect target: the match has " + strconv.Itoa(nsub) + " captures")
			}
			parts = append(parts, tmplPart{capture: int(name[0] - '0')})
		} else if v, ok := tmplVars[name]; ok {
			parts = append(parts, tmplPart{v: v})
		} else {
			return nil, errors.New("unknown variable $" + name + " in redirect target (known: $1..$9, $host, $request_uri, $uri, $args, $is_args, $scheme)")
		}
		i += n - 1
	}
	if len(lit) > 0 {
		parts = append(parts, tmplPart{lit: string(lit)})
	}
	return parts, nil
}

// SetFallbackHost is what $host is for a request without a Host (the
// vhost's first name).
func (rd *Redirects) SetFallbackHost(h string) { rd.fallbackHost = h }

// Serve implements Handler.
func (rd *Redirects) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	for i := range rd.rules {
		r := &rd.rules[i]
		if len(r.literal) > 0 && (len(req.Path) < len(r.literal) || string(req.Path[:len(r.literal)]) != r.literal) {
			continue
		}
		if !r.re.Match(req.Path) {
			continue
		}
		if r.status == 0 {
			rd.rewrite(ctx, req, resp, r)
		} else {
			rd.redirect(ctx, req, resp, r)
		}
		return
	}
	rd.Next.Serve(ctx, req, resp)
}

// redirect answers with r's target for req. Only a matching request gets
// here: its captures cost an allocation.
func (rd *Redirects) redirect(ctx *Ctx, req *httpcodec.Request, resp *Response, r *redirectRule) {
	var caps []int
	if r.nsub > 0 {
		caps = r.re.FindSubmatchIndex(req.Path)
	}
	start := len(ctx.Scratch)
	b := httpcodec.AppendStatusLine(ctx.Scratch, r.status)
	b = append(b, httpcodec.ServerHeader...)
	b = append(b, "Location: "...)
	b = rd.appendTarget(b, req, r, caps)
	b = append(b, "\r\n"...)
	ctx.Scratch = httpcodec.AppendContentLength(b, 0)
	resp.Status = r.status
	resp.Head = scratchView(ctx, start)
}

func (rd *Redirects) appendVar(b []byte, req *httpcodec.Request, v tmplVar) []byte {
	switch v {
	case varHost:
		var buf [maxHost]byte
		if n := hostKey(&buf, req.Host); n > 0 && printable(buf[:n]) {
			return append(b, buf[:n]...)
		}
		return append(b, rd.fallbackHost...)
	case varRequestURI:
		if printable(req.RawTarget) {
			return append(b, req.RawTarget...)
		}
		return appendEscapedPath(b, req.Path)
	case varURI:
		return appendEscapedPath(b, req.Path)
	case varArgs:
		if printable(req.Query) {
			return append(b, req.Query...)
		}
	case varIsArgs:
		if len(req.Query) > 0 && printable(req.Query) {
			return append(b, '?')
		}
	case varScheme:
		return append(b, "http"...)
	}
	return b
}
