package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
)

const soapContentType = "application/soap+xml;charset=UTF-8"

func writeSOAP(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", soapContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// userError maps err to the catalog error a client is shown. Errors without
// a code become server.internal with the request id, and are logged with
// their whole chain; nothing internal reaches the client.
func (g *Gateway) userError(req *request, err error) *psgate.Error {
	if e, ok := psgate.AsError(err); ok {
		return e
	}
	req.logger().Error("internal error", logKeyErr, err)
	return psgate.E(psgate.CodeInternal, psgate.Args{"request": req.id})
}

// writeError answers with the WS-Man fault of err's catalog code.
func (g *Gateway) writeError(w http.ResponseWriter, req *request, err error) {
	e := g.userError(req, err)
	entry := e.Entry()
	if e.Code != psgate.CodeOperationTimeout {
		action := ""
		if req.env != nil {
			action = req.env.Action
		}
		req.logger().Info("request refused", logKeyCode, string(e.Code), logKeyAction, action)
	}
	if entry.HTTPStatus == http.StatusRequestEntityTooLarge {
		// WS-Management answers an oversized request with a bare 413
		// before processing it; the text helps people using curl.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprintf(w, "%s: %s\n%s\n", e.Code, e.Message, e.Resolution)
		return
	}
	setRetryAfter(w, e)
	writeSOAP(w, faultStatus(entry), g.faultBody(req, e))
}

// setRetryAfter says when to try again for a refusal that passes (sign-in
// busy, an account lock, a rate limit), as the token endpoint does.
func setRetryAfter(w http.ResponseWriter, e *psgate.Error) {
	if v, ok := e.Value("retry_after"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			w.Header().Set("Retry-After", v)
		}
	}
}

// faultStatus is the HTTP status of a SOAP fault: WS-Man clients parse
// faults only from 500 responses, so 4xx catalog statuses other than the
// authentication ones still travel as 500.
func faultStatus(entry psgate.Entry) int {
	switch entry.HTTPStatus {
	case http.StatusUnauthorized, http.StatusServiceUnavailable:
		return entry.HTTPStatus
	}
	return http.StatusInternalServerError
}

func (g *Gateway) faultBody(req *request, e *psgate.Error) []byte {
	entry := e.Entry()
	relatesTo := req.relatesTo
	if req.env != nil {
		relatesTo = req.env.MessageID
	}
	data := make([]wsman.KV, 0, len(e.Data)+1)
	if e.Resolution != "" {
		data = append(data, wsman.KV{Key: "resolution", Value: e.Resolution})
	}
	for _, kv := range e.Data {
		data = append(data, wsman.KV{Key: kv.Key, Value: kv.Value})
	}
	code, subcode := entry.FaultCode, entry.FaultSubcode
	if code == "" {
		code = "s:Sender"
	}
	if subcode == "" {
		subcode = "w:InternalError"
	}
	wsmanCode := entry.WSManCode
	if wsmanCode == 0 {
		wsmanCode = 0x80338003 // provider failure
	}
	return wsman.EncodeFault(wsman.Header{
		Action:    wsman.ActionFault,
		MessageID: g.messageID(),
		RelatesTo: relatesTo,
	}, wsman.Fault{
		Code:      code,
		Subcode:   subcode,
		Reason:    e.Message,
		WSManCode: wsmanCode,
		Machine:   g.cfg.Machine,
		ErrorCode: string(e.Code),
		Data:      data,
	})
}

// writeAuthError answers 401 (or the error's status) with the Basic
// challenge and a fault body that explains what psgate accepts.
func (g *Gateway) writeAuthError(w http.ResponseWriter, req *request, err error) {
	e := g.userError(req, err)
	entry := e.Entry()
	status := entry.HTTPStatus
	if status == 0 || status == http.StatusInternalServerError {
		status = http.StatusUnauthorized
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="psgate"`)
	}
	req.logger().Info("authentication refused", logKeyCode, string(e.Code))
	setRetryAfter(w, e)
	writeSOAP(w, status, g.faultBody(req, e))
}

// decodeError maps a wsman decode failure to its catalog error.
func decodeError(err error, size, limit int) error {
	var de *wsman.DecodeError
	if !errors.As(err, &de) {
		return psgate.Wrap(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "the envelope could not be decoded"}, err)
	}
	switch de.Kind {
	case wsman.KindTooLarge:
		return psgate.E(psgate.CodeEnvelopeTooLarge, psgate.Args{"size": strconv.Itoa(size), "limit": strconv.Itoa(limit)})
	case wsman.KindMissingHeader:
		return psgate.E(psgate.CodeMissingHeader, psgate.Args{"header": de.Header})
	default:
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": de.Detail})
	}
}
