package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
)

// MaxBodyBytes caps a request body: a row of the widest model in JSON
// fits well within it.
const MaxBodyBytes = 1 << 20

// PredictRequest is the body of POST /v1/predict.
type PredictRequest struct {
	// Model is optional; when given it must be the served model's id.
	Model    string    `json:"model,omitempty"`
	Features []float64 `json:"features"`
}

// PredictResponse is its answer: the class the model picks (the index
// of the largest score) and the scores (logits) of every class.
type PredictResponse struct {
	Object string    `json:"object"`
	Model  string    `json:"model"`
	Class  int       `json:"class"`
	Scores []float64 `json:"scores"`
}

// ModelInfo is one entry of GET /v1/models.
type ModelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	OwnedBy string `json:"owned_by"`
	Inputs  int    `json:"inputs"`
	Classes int    `json:"classes"`
	SHA256  string `json:"sha256"`
}

// ModelList is the answer of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"`
	Data   []ModelInfo `json:"data"`
}

// APIError is the error body, in OpenAI's shape.
type APIError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

// Handler serves l.
func Handler(l *Loaded) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]string{"status": "ok", "model": l.ID})
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, ModelList{Object: "list", Data: []ModelInfo{info(l)}})
	})
	mux.HandleFunc("POST /v1/predict", func(w http.ResponseWriter, r *http.Request) { predict(w, r, l) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "not_found", "no route %s %s; the API is GET /healthz, GET /v1/models, POST /v1/predict", r.Method, r.URL.Path)
	})
	return mux
}

func info(l *Loaded) ModelInfo {
	return ModelInfo{ID: l.ID, Object: "model", OwnedBy: "inferd", Inputs: l.Model.Inputs(), Classes: l.Model.Outputs(), SHA256: l.SHA256}
}

func predict(w http.ResponseWriter, r *http.Request, l *Loaded) {
	// The body is read as JSON whatever its Content-Type says: `curl -d`
	// sends form encoding by default.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	var req PredictRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "body over %d bytes", MaxBodyBytes)
			return
		}
		fail(w, http.StatusBadRequest, "invalid_request_error", "body is not a predict request (%v); send {\"features\": [%d numbers]}", err, l.Model.Inputs())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		fail(w, http.StatusBadRequest, "invalid_request_error", "body holds more than one JSON value; send one {\"features\": [...]} object")
		return
	}
	if req.Model != "" && req.Model != l.ID {
		fail(w, http.StatusNotFound, "model_not_found", "model %q is not served here; this server serves %q (GET /v1/models)", req.Model, l.ID)
		return
	}
	if n := l.Model.Inputs(); len(req.Features) != n {
		fail(w, http.StatusBadRequest, "invalid_request_error", "features has %d numbers, the model takes %d", len(req.Features), n)
		return
	}
	class, scores := l.Model.Classify(req.Features)
	for _, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			fail(w, http.StatusBadRequest, "invalid_request_error", "the model's scores overflow for these features; send smaller numbers")
			return
		}
	}
	reply(w, http.StatusOK, PredictResponse{Object: "prediction", Model: l.ID, Class: class, Scores: scores})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, typ, format string, a ...any) {
	var e APIError
	e.Error.Message, e.Error.Type = fmt.Sprintf(format, a...), typ
	reply(w, code, e)
}
