package httpproxy

import (
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream/cgi"
)

// fieldKind is what EncodeHead does with a request field.
type fieldKind uint8

const (
	fieldKeep fieldKind = iota
	fieldHost           // kept, and it is the Host
	fieldBody           // Content-Length: replaced by the exact length
	fieldDrop           // hop-by-hop, gale's own, or replaced by gale's
)

// kindOf classifies a request field name. Dropped: the hop-by-hop fields
// (RFC 9110 section 7.6.1 and Go's httputil list: Connection, Keep-Alive,
// Proxy-Connection, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
// Upgrade: no tunnel is set up for it), Proxy (httpoxy), Expect (gale
// answered 100-continue itself and sends the body whole), and the
// forwarding fields gale sets.
func kindOf(name []byte) fieldKind {
	eq := httpcodec.EqualFold[string]
	switch len(name) {
	case 2:
		if eq(name, "TE") {
			return fieldDrop
		}
	case 4:
		if eq(name, "Host") {
			return fieldHost
		}
	case 5:
		if eq(name, "Proxy") {
			return fieldDrop
		}
	case 6:
		if eq(name, "Expect") {
			return fieldDrop
		}
	case 7:
		if eq(name, "Upgrade") || eq(name, "Trailer") {
			return fieldDrop
		}
	case 9:
		if eq(name, "Forwarded") || eq(name, "X-Real-IP") {
			return fieldDrop
		}
	case 10:
		if eq(name, "Connection") || eq(name, "Keep-Alive") {
			return fieldDrop
		}
	case 14:
		if eq(name, "Content-Length") {
			return fieldBody
		}
	case 15:
		if eq(name, "X-Forwarded-For") {
			return fieldDrop
		}
	case 16:
		if eq(name, "Proxy-Connection") || eq(name, "X-Forwarded-Host") {
			return fieldDrop
		}
	case 17:
		if eq(name, "Transfer-Encoding") {
			return fieldBody
		}
		if eq(name, "X-Forwarded-Proto") {
			return fieldDrop
		}
	case 19:
		if eq(name, "Proxy-Authorization") {
			return fieldDrop
		}
	}
	return fieldKeep
}

// listedInConnection reports whether a Connection field of hs names name:
// such a field was meant for gale alone (RFC 9110 section 7.6.1).
func listedInConnection(hs []cgi.Field, name []byte) bool {
	for _, h := range hs {
		if isConnection(h.Name) && httpcodec.ListHas(h.Value, name) {
			return true
		}
	}
	return false
}

func isConnection(name []byte) bool {
	return len(name) == 10 && httpcodec.EqualFold(name, "Connection")
}

// UpgradeTo returns the protocol a request asks to switch to when gale
// tunnels it: a GET with "Upgrade: websocket" and a Connection field that
// lists upgrade (RFC 6455 section 4.1); nil for any other request (h2c
// and the like are dropped with the hop-by-hop fields).
func UpgradeTo(method []byte, hs []cgi.Field) []byte {
	if string(method) != "GET" {
		return nil
	}
	var up []byte
	conn := false
	for _, h := range hs {
		switch {
		case len(h.Name) == 7 && httpcodec.EqualFold(h.Name, "Upgrade"):
			up = h.Value
		case isConnection(h.Name):
			conn = conn || httpcodec.ListHas(h.Value, "upgrade")
		}
	}
	if !conn || len(up) != 9 || !httpcodec.EqualFold(up, "websocket") {
		return nil
	}
	return up
}
