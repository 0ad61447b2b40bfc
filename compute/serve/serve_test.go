package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/contest/eval/mlp"
)

// demoModel writes the demo contest's better model to a temp file.
func demoModel(t *testing.T) (*Loaded, []byte) {
	t.Helper()
	b := contestdemo.BetterModel(1)
	p := filepath.Join(t.TempDir(), "model.safetensors")
	os.WriteFile(p, b, 0o644)
	l, err := LoadModel(p)
	if err != nil {
		t.Fatal(err)
	}
	return l, b
}

func post(t *testing.T, url, ct, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func TestServeAPI(t *testing.T) {
	l, raw := demoModel(t)
	srv := httptest.NewServer(Handler(l))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, _ = http.Get(srv.URL + "/v1/models")
	var ml ModelList
	json.NewDecoder(resp.Body).Decode(&ml)
	resp.Body.Close()
	if len(ml.Data) != 1 || ml.Data[0].ID != l.ID || ml.Data[0].Inputs != 2 || ml.Data[0].Classes != 3 {
		t.Fatalf("models: %+v", ml)
	}

	// Every row of the demo dataset: the served class is the class the
	// evaluator counts, so the served accuracy equals the contest's score.
	d, err := mlp.ParseDataset(contestdemo.Dataset(1))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range d.Rows() {
		body, _ := json.Marshal(PredictRequest{Model: l.ID, Features: d.Row(i)})
		code, out := post(t, srv.URL+"/v1/predict", "application/json", string(body))
		var pr PredictResponse
		if code != 200 || json.Unmarshal(out, &pr) != nil || len(pr.Scores) != 3 {
			t.Fatalf("row %d: %d %s", i, code, out)
		}
		if pr.Class != mlp.Argmax(pr.Scores) {
			t.Fatalf("row %d: class %d, scores %v", i, pr.Class, pr.Scores)
		}
		if float64(pr.Class) == d.Y[i] {
			correct++
		}
	}
	ev, _ := eval.Builtin("mlp-accuracy")
	want, err := ev.Evaluate(context.Background(), raw, contestdemo.Dataset(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(correct) * 1_000_000 / int64(d.Rows()); got/100 != want/100 {
		t.Fatalf("served accuracy %d ppm, evaluator %d ppm", got, want)
	}

	for _, tc := range []struct {
		name, ct, body string
		code           int
		msg            string
	}{
		{"bad json", "application/json", `{"features": [1,`, 400, "not a predict request"},
		{"unknown field", "", `{"features": [1, 2], "temperature": 1}`, 400, "unknown field"},
		{"wrong count", "", `{"features": [1, 2, 3]}`, 400, "has 3 numbers, the model takes 2"},
		{"no features", "", `{}`, 400, "has 0 numbers"},
		{"two values", "", `{"features": [1, 2]} {}`, 400, "more than one JSON value"},
		{"not numbers", "", `{"features": ["a", 2]}`, 400, "not a predict request"},
		{"other model", "", `{"model": "gpt-4", "features": [1, 2]}`, 404, `"gpt-4" is not served here`},
		{"too big", "", `{"features": [` + strings.Repeat("1,", MaxBodyBytes/2) + `1]}`, 413, "body over"},
	} {
		code, out := post(t, srv.URL+"/v1/predict", tc.ct, tc.body)
		var e APIError
		json.Unmarshal(out, &e)
		if code != tc.code || !strings.Contains(e.Error.Message, tc.msg) {
			t.Errorf("%s: %d %s; want %d and %q", tc.name, code, out, tc.code, tc.msg)
		}
	}
	resp, _ = http.Get(srv.URL + "/v1/chat/completions")
	if resp.StatusCode != 404 {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestLoadModelErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadModel(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "mount the model") {
		t.Errorf("absent: %v", err)
	}
	if _, err := LoadModel(dir); err == nil || !strings.Contains(err.Error(), "holds 0 *.safetensors") {
		t.Errorf("empty dir: %v", err)
	}
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("not a model"), 0o644)
	if _, err := LoadModel(junk); err == nil || !strings.Contains(err.Error(), "want the contest's MLP safetensors") {
		t.Errorf("junk: %v", err)
	}
	os.WriteFile(junk, contestdemo.BaselineModel(1), 0o644)
	l, err := LoadModel(dir)
	if err != nil || l.Path != junk {
		t.Errorf("dir with one model: %v", err)
	}
	if err := SetID(l, "bad name!"); err == nil {
		t.Error("bad model name accepted")
	}
}

func TestBatch(t *testing.T) {
	l, raw := demoModel(t)
	data := filepath.Join(t.TempDir(), "points.csv")
	os.WriteFile(data, contestdemo.Dataset(1), 0o644)
	out := t.TempDir()
	s, err := Batch(context.Background(), l, data, out)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := eval.Builtin("mlp-accuracy")
	want, _ := ev.Evaluate(context.Background(), raw, contestdemo.Dataset(1))
	if s.AccuracyPPM != want || s.Model != l.ID {
		t.Fatalf("summary %+v, evaluator scores %d", s, want)
	}
	pred, _ := os.ReadFile(filepath.Join(out, PredictionsFile))
	if lines := strings.Count(string(pred), "\n"); lines != s.Rows+1 {
		t.Fatalf("%d lines of predictions for %d rows", lines, s.Rows)
	}
	os.WriteFile(data, []byte("a,b,c,label\n1,2,3,0\n"), 0o644)
	if _, err := Batch(context.Background(), l, data, out); err == nil || !strings.Contains(err.Error(), "has 3 features, the model takes 2") {
		t.Errorf("wrong width: %v", err)
	}
}
