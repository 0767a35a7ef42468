// Package jsonapi writes answers in the JSON envelope of the Prometheus
// HTTP API, {"status":"success","data":...} or {"status":"error",
// "errorType":...,"error":...}, for the server's own APIs (hosts, checks)
// so that clients of /api/v1 read them all the same way.
package jsonapi

import (
	"encoding/json"
	"net/http"
)

// Success writes data with status 200.
func Success(w http.ResponseWriter, data any) { SuccessStatus(w, http.StatusOK, data) }

// SuccessStatus writes data with another 2xx status, such as 201 Created.
func SuccessStatus(w http.ResponseWriter, code int, data any) {
	write(w, code, struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{"success", data})
}

// Error writes an error of errorType (bad_data, not_found, internal, ...)
// with the HTTP status code.
func Error(w http.ResponseWriter, code int, errorType, msg string) {
	write(w, code, struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", errorType, msg})
}

func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
