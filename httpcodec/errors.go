package httpcodec

import "errors"

// Error is a request the codec refuses, with the status gale answers it with.
// The connection must be closed after the answer: the framing of whatever
// follows on the wire is unknown.
type Error struct {
	Status int
	Reason string
}

// Error returns the reason.
func (e *Error) Error() string { return e.Reason }

// ErrNeedMore means the buffer holds an incomplete request head (or chunked
// body): read more bytes and call again. Parse starts over from the first
// byte each time, so the caller keeps the unconsumed bytes and retries with
// the longer buffer.
var ErrNeedMore = errors.New("httpcodec: need more data")

// The table from error to status: every error the codec returns, besides
// ErrNeedMore, is one of these values (compare with ==), and its Status is
// what the client is answered.
var (
	// 400: syntax (RFC 9112 sections 2-7).
	ErrMethod         = &Error{400, "invalid method"}
	ErrTarget         = &Error{400, "invalid request-target"}
	ErrVersion        = &Error{400, "malformed HTTP version"}
	ErrBareCR         = &Error{400, "bare CR"}
	ErrBareLF         = &Error{400, "bare LF line ending"}
	ErrObsFold        = &Error{400, "obsolete line folding or leading whitespace"}
	ErrFieldName      = &Error{400, "invalid field name"}
	ErrSpaceColon     = &Error{400, "whitespace before colon"}
	ErrFieldValue     = &Error{400, "invalid field value"}
	ErrHost           = &Error{400, "invalid Host"}
	ErrMissingHost    = &Error{400, "missing Host"}
	ErrMultipleHost   = &Error{400, "multiple Host fields"}
	ErrContentLength  = &Error{400, "invalid Content-Length"}
	ErrMultipleCL     = &Error{400, "multiple Content-Length fields"}
	ErrCLAndTE        = &Error{400, "both Content-Length and Transfer-Encoding"}
	ErrTE             = &Error{400, "malformed Transfer-Encoding"}
	ErrChunkedNotLast = &Error{400, "chunked is not the final transfer coding"}
	ErrChunkedTwice   = &Error{400, "chunked applied twice"}
	ErrTEHTTP10       = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	ErrPath           = &Error{400, "invalid path"}
	ErrPathAboveRoot  = &Error{400, "path climbs above the root"}
	ErrChunkSize      = &Error{400, "invalid chunk size"}
	ErrChunkExt       = &Error{400, "invalid chunk extension"}
	ErrChunkData      = &Error{400, "chunk data not followed by CRLF"}
	ErrTrailer        = &Error{400, "invalid trailer field"}

	// Limits.
	ErrBodyTooLarge    = &Error{413, "body too large"}
	ErrURITooLong      = &Error{414, "request line too long"}
	ErrHeadersTooLarge = &Error{431, "header fields too large"}
	ErrTooManyHeaders  = &Error{431, "too many header fields"}
	ErrTrailerTooLarge = &Error{431, "trailer section too large"}

	// Semantics the server does not implement.
	ErrExpectation    = &Error{417, "unsupported expectation"}
	ErrTransferCoding = &Error{501, "unsupported transfer coding"}
	ErrVersionNotSupp = &Error{505, "HTTP version not supported"}
)

// Errors of the upstream response parser (ResponseParser): the backend sent
// a response gale cannot forward, answered 502. The field-line syntax errors
// above (ErrBareLF, ErrObsFold, ErrFieldValue, ...) come from it too, for
// the same faults in a response head: for a response, every error is 502.
var (
	ErrRespStatusLine       = &Error{502, "upstream: malformed status line"}
	ErrRespHeadTooLarge     = &Error{502, "upstream: response head too large"}
	ErrRespTooManyFields    = &Error{502, "upstream: too many response fields"}
	ErrRespContentLength    = &Error{502, "upstream: invalid or conflicting Content-Length"}
	ErrRespTransferEncoding = &Error{502, "upstream: unsupported or misplaced Transfer-Encoding"}
	ErrRespCLAndTE          = &Error{502, "upstream: both Content-Length and Transfer-Encoding"}
	ErrRespConnection       = &Error{502, "upstream: too many Connection fields"}
	ErrRespInterim          = &Error{502, "upstream: too many interim responses"}
	ErrRespUpgrade          = &Error{502, "upstream: 101 Switching Protocols without an upgrade"}
	ErrRespExtra            = &Error{502, "upstream: bytes after the response"}
)

// StatusOf returns the status to answer err with: 0 for nil and ErrNeedMore
// (nothing to answer yet), the Status of an *Error (also when wrapped), and
// 500 for anything else.
func StatusOf(err error) int {
	if err == nil || err == ErrNeedMore {
		return 0
	}
	if e, ok := err.(*Error); ok {
		return e.Status
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	if errors.Is(err, ErrNeedMore) {
		return 0
	}
	return 500
}
