package fastcgi

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrNeedMore means the input holds only part of a record or of a response
// head: keep the bytes and call again when more arrive.
var ErrNeedMore = errors.New("fastcgi: need more data")

// Protocol violations. Each reaches the caller wrapped in a *ProtocolError,
// so errors.Is(err, ErrVersion) and errors.As(err, &pe) both work. The
// reactor answers 502 for any of them and closes the upstream connection.
var (
	ErrVersion = errors.New("unsupported FastCGI version")
	// ErrSpeaksHTTP: the peer answered with an HTTP status line, so the
	// address is an HTTP server's (gunicorn, uvicorn), which belongs in
	// an upstream of protocol http. It is an ErrVersion too.
	ErrSpeaksHTTP     = fmt.Errorf("this backend speaks HTTP, not FastCGI (make it an upstream of protocol http, reached by a location's proxy): %w", ErrVersion)
	ErrPairs          = errors.New("malformed name-value pairs")
	ErrEndRequest     = errors.New("malformed FCGI_END_REQUEST")
	ErrUnknownID      = errors.New("record for a request ID not in flight")
	ErrUnexpectedType = errors.New("unexpected record type")
	ErrValues         = errors.New("malformed FCGI_GET_VALUES_RESULT")
)

// ProtocolError is a FastCGI protocol violation by the peer, with the type
// and request ID of the offending record when known.
type ProtocolError struct {
	Err  error
	Type uint8
	ID   uint16
}

func protoErr(err error, typ uint8, id uint16) error {
	return &ProtocolError{Err: err, Type: typ, ID: id}
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return "fastcgi: " + e.Err.Error() + " (record type " + strconv.Itoa(int(e.Type)) +
		", request " + strconv.Itoa(int(e.ID)) + ")"
}

// Unwrap returns the sentinel describing the violation.
func (e *ProtocolError) Unwrap() error { return e.Err }
