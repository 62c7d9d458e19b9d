package textproc

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
)

// LabelScore is the precision, recall and F1 of one label.
type LabelScore struct {
	Label     string
	Support   int // texts with this true label
	Predicted int // texts predicted as this label
	Correct   int
	Precision float64
	Recall    float64
	F1        float64
}

// Evaluation is a classifier's result on labelled texts. MacroF1 is the
// mean F1 over the labels that occur in the true labels.
type Evaluation struct {
	Labels   []LabelScore
	N        int
	Correct  int
	Accuracy float64
	MacroF1  float64
}

// Evaluate predicts every example and scores the predictions.
func Evaluate(c *Classifier, examples []Example) *Evaluation {
	pred := make([]string, len(examples))
	parallel(len(examples), runtime.GOMAXPROCS(0), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			pred[i] = c.Predict(examples[i].Text)
		}
	})
	truth := make([]string, len(examples))
	for i, e := range examples {
		truth[i] = e.Label
	}
	return Score(truth, pred)
}

// Score compares predictions with the truth.
func Score(truth, pred []string) *Evaluation {
	by := map[string]*LabelScore{}
	get := func(l string) *LabelScore {
		s := by[l]
		if s == nil {
			s = &LabelScore{Label: l}
			by[l] = s
		}
		return s
	}
	ev := &Evaluation{N: len(truth)}
	for i := range truth {
		get(truth[i]).Support++
		get(pred[i]).Predicted++
		if truth[i] == pred[i] {
			get(truth[i]).Correct++
			ev.Correct++
		}
	}
	var f1sum float64
	var nl int
	for _, s := range by {
		if s.Predicted > 0 {
			s.Precision = float64(s.Correct) / float64(s.Predicted)
		}
		if s.Support > 0 {
			s.Recall = float64(s.Correct) / float64(s.Support)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		if s.Support > 0 {
			f1sum += s.F1
			nl++
		}
		ev.Labels = append(ev.Labels, *s)
	}
	sort.Slice(ev.Labels, func(i, j int) bool { return ev.Labels[i].Label < ev.Labels[j].Label })
	if ev.N > 0 {
		ev.Accuracy = float64(ev.Correct) / float64(ev.N)
	}
	if nl > 0 {
		ev.MacroF1 = f1sum / float64(nl)
	}
	return ev
}

// WriteReport prints per-label precision/recall/F1 and, as the last line,
// "accuracy=0.XXXX macro_f1=0.XXXX".
func (ev *Evaluation) WriteReport(w io.Writer) error {
	width := 5
	for _, s := range ev.Labels {
		width = max(width, displayWidth(s.Label))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-displayWidth(s)) }
	fmt.Fprintf(w, "%s  %9s  %6s  %6s  %7s\n", pad("label"), "precision", "recall", "f1", "support")
	for _, s := range ev.Labels {
		fmt.Fprintf(w, "%s  %9.4f  %6.4f  %6.4f  %7d\n", pad(s.Label), s.Precision, s.Recall, s.F1, s.Support)
	}
	_, err := fmt.Fprintf(w, "accuracy=%.4f macro_f1=%.4f\n", ev.Accuracy, ev.MacroF1)
	return err
}

// displayWidth counts Han and other wide runes as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// ReadExamples reads a CSV with a header row naming the columns text and
// label (in any order; other columns are ignored).
func ReadExamples(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading CSV header: %w", err)
	}
	ti, li := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "text":
			ti = i
		case "label":
			li = i
		}
	}
	if ti < 0 || li < 0 {
		return nil, errors.New("the CSV header must name the columns text and label")
	}
	var out []Example
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV line %d: %w", line, err)
		}
		if ti >= len(rec) || li >= len(rec) {
			return nil, fmt.Errorf("CSV line %d: too few columns", line)
		}
		l := strings.TrimSpace(rec[li])
		if l == "" {
			continue
		}
		out = append(out, Example{Text: rec[ti], Label: l})
	}
	return out, nil
}
