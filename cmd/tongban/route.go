package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tongban/tongban/textproc"
)

func init() {
	register(command{name: "route train", usage: "route train --csv FILE --model OUT", summary: "train a routing model on a CSV of text,label", run: cmdRouteTrain})
	register(command{name: "route eval", usage: "route eval --csv FILE --model M", summary: "evaluate a routing model on a CSV of text,label", run: cmdRouteEval})
}

func readExamplesFile(path string) ([]textproc.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := textproc.ReadExamples(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("%s: no labelled rows", path)
	}
	return ex, nil
}

func cmdRouteTrain(_ context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "route train --csv FILE --model OUT"
	fs := newFlags("route train", u, "Train a routing classifier (character n-grams, TF-IDF, linear SVM) on a CSV with a header row and the columns text,label, and write the model to OUT.", out)
	csvPath := fs.String("csv", "", "training data: CSV with columns text,label (required)")
	modelPath := fs.String("model", "", "file to write the model to (required)")
	c := fs.Float64("c", 0, "SVM cost (default 0.5)")
	nb := fs.Float64("nb", 0, "weight of complement naive Bayes in the ensemble, 0..1")
	maxN := fs.Int("ngram", 0, "longest character n-gram, 1..3 (default 2)")
	unbal := fs.Bool("unbalanced", false, "do not weight rare labels up")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, u); err != nil {
		return err
	}
	if *csvPath == "" || *modelPath == "" {
		return fmt.Errorf("--csv and --model are required; usage: tongban %s", u)
	}
	ex, err := readExamplesFile(*csvPath)
	if err != nil {
		return err
	}
	t0 := time.Now()
	m, err := textproc.Train(ex, textproc.TrainOptions{C: *c, NBWeight: *nb, MaxN: *maxN, Unbalanced: *unbal})
	if err != nil {
		return err
	}
	took := time.Since(t0)
	tmp, err := os.CreateTemp(filepath.Dir(*modelPath), ".route-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := m.Save(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *modelPath); err != nil {
		return err
	}
	st, _ := os.Stat(*modelPath)
	fmt.Fprintf(out, "trained on %d texts, %d labels, %d features in %s; model %s (%d bytes)\n",
		len(ex), len(m.Labels), len(m.Keys), took.Round(time.Millisecond), *modelPath, st.Size())
	return nil
}

func cmdRouteEval(_ context.Context, args []string, _ io.Reader, out io.Writer) error {
	const u = "route eval --csv FILE --model M"
	fs := newFlags("route eval", u, "Evaluate a routing model on a CSV with columns text,label: per-label precision, recall and F1, then a last line accuracy=… macro_f1=….", out)
	csvPath := fs.String("csv", "", "test data: CSV with columns text,label (required)")
	modelPath := fs.String("model", "", "model written by route train (required)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, u); err != nil {
		return err
	}
	if *csvPath == "" || *modelPath == "" {
		return fmt.Errorf("--csv and --model are required; usage: tongban %s", u)
	}
	f, err := os.Open(*modelPath)
	if err != nil {
		return err
	}
	m, err := textproc.Load(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	ex, err := readExamplesFile(*csvPath)
	if err != nil {
		return err
	}
	return textproc.Evaluate(m, ex).WriteReport(out)
}
