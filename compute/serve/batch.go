package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// Files Batch writes in its output directory.
const (
	PredictionsFile = "predictions.csv"
	SummaryFile     = "summary.json"
)

// Summary is what Batch writes to SummaryFile.
type Summary struct {
	Model string `json:"model"`
	Rows  int    `json:"rows"`
	// Accuracy on the dataset's labels, in parts per million, rounded as
	// contest/eval scores mlp-accuracy (that package is not imported: it
	// brings the wasm runtime into the image; a test checks they agree).
	AccuracyPPM int64 `json:"accuracy_ppm"`
}

// Batch predicts every row of the dataset at dataPath (the contest's CSV
// format: features, then label) with l and writes outDir/predictions.csv
// (one "row,class" line per row, after a header) and outDir/summary.json.
func Batch(ctx context.Context, l *Loaded, dataPath, outDir string) (*Summary, error) {
	b, err := os.ReadFile(dataPath)
	if err != nil {
		return nil, fmt.Errorf("batch: %w; mount the dataset (CSV: features then label) at this path", err)
	}
	d, err := mlp.ParseDataset(b)
	if err != nil {
		return nil, fmt.Errorf("batch: dataset %s: %w", dataPath, err)
	}
	if len(d.Features) != l.Model.Inputs() {
		return nil, fmt.Errorf("batch: dataset %s has %d features, the model takes %d", dataPath, len(d.Features), l.Model.Inputs())
	}
	acc, err := mlp.Accuracy(ctx, l.Model, d)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	var sb strings.Builder
	sb.WriteString("row,class\n")
	for i := range d.Rows() {
		class, _ := l.Model.Classify(d.Row(i))
		sb.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(class) + "\n")
	}
	if err := os.WriteFile(filepath.Join(outDir, PredictionsFile), []byte(sb.String()), 0o644); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	s := &Summary{Model: l.ID, Rows: d.Rows(), AccuracyPPM: int64(math.Round(acc * 1e6))}
	js, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(outDir, SummaryFile), append(js, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	return s, nil
}
