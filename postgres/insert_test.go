package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/textproc"
)

// Created cases, batched together whichever way their tsvectors are
// built (in Go, or by to_tsvector for tokens Go does not vouch for), get
// the search_tsv and text_sig PostgreSQL would compute, their first
// events the ids the database gave them, and their attachments theirs.
func TestCreateSearchTSV(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.goTSV {
		t.Fatal("the server's tsvectors disagree with caseTSVector on the probe text")
	}
	texts := tsvTexts()
	texts = append(texts, [4]string{"café", "Москва", "鿐 ひらがな", "ｶﾀｶﾅ"}, [4]string{"", "", "Ελλάδα", ""})
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	cases := make([]*tongban.Case, len(texts))
	firsts := make([]*tongban.Event, len(texts))
	var wg sync.WaitGroup
	errs := make(chan error, len(texts))
	for i, f := range texts {
		c := &tongban.Case{Kind: tongban.KindRequest, Workflow: "request", TrackingCode: fmt.Sprintf("T%011d", i+1),
			Channel: tongban.ChannelPhone, Title: f[0], Address: f[1], Body: f[2], Reply: f[3], Step: "handle", Status: tongban.StatusOpen,
			ReceivedAt: at, UpdatedAt: at, StepStarted: at, Deadline: at}
		if i%7 == 0 {
			c.Attachments = []tongban.Attachment{{Name: "photo.jpg", ContentType: "image/jpeg", Size: 3, SHA256: "abc", Data: []byte{1, 2, 3}, CreatedAt: at}}
		}
		cases[i], firsts[i] = c, &tongban.Event{Action: "create", ToStep: "handle", Actor: "市民", At: at}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.CreateCase(ctx, cases[i], firsts[i])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cases {
		var same bool
		var sig []byte
		var evID int64
		if err := db.pool.QueryRow(ctx, `SELECT search_tsv = `+tsvExpr(1)+`, text_sig, (SELECT id FROM events WHERE case_id = $5 AND seq = 1) FROM cases WHERE id = $5`,
			append(textArgs(c)[:4], c.ID)...).Scan(&same, &sig, &evID); err != nil {
			t.Fatal(err)
		}
		want := textproc.SignCase(c.Title, c.Body)
		if !same || string(sig) != string(want.Bytes()) {
			t.Errorf("case %d (%q): search_tsv as to_tsvector %v, text_sig as signed %v", c.ID, c.Title, same, string(sig) == string(want.Bytes()))
		}
		if firsts[i].ID != evID || firsts[i].CaseID != c.ID || firsts[i].Hash != c.LastHash {
			t.Errorf("case %d: first event id %d case %d, stored id %d", c.ID, firsts[i].ID, firsts[i].CaseID, evID)
		}
		got, err := db.Case(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Attachments) != len(c.Attachments) {
			t.Fatalf("case %d: %d attachments stored, %d created", c.ID, len(got.Attachments), len(c.Attachments))
		}
		for j, a := range got.Attachments {
			if a.ID == 0 || a.ID != c.Attachments[j].ID || c.Attachments[j].CaseID != c.ID {
				t.Errorf("case %d: attachment id %d stored, %d (case %d) returned", c.ID, a.ID, c.Attachments[j].ID, c.Attachments[j].CaseID)
			}
		}
	}
	var batches int
	if err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM cases`).Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if batches >= len(cases) {
		t.Errorf("%d cases in %d transactions: never batched", len(cases), batches)
	}
}

// Counter deltas of one key on two days of one month, and one day twice,
// go in one statement per table: the month row gets their sum.
func TestAddScoresOneMonth(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	delta := func(day int, n int64) tongban.ScoreDelta {
		d := tongban.ScoreDelta{Dim: "dept", Key: "城管局", Day: day}
		d.Received = n
		return d
	}
	for range 2 {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := addScores(ctx, tx, []tongban.ScoreDelta{delta(20261129, 2), delta(20261128, 1), delta(20261128, 4), delta(20261201, 8)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		sql  string
		want int64
	}{
		{`SELECT sum(received) FROM score_days WHERE day = 20261128`, 10},
		{`SELECT sum(received) FROM score_days WHERE day = 20261129`, 4},
		{`SELECT sum(received) FROM score_months WHERE month = 202611`, 14},
		{`SELECT sum(received) FROM score_months WHERE month = 202612`, 16},
	} {
		var got int64
		if err := db.pool.QueryRow(ctx, c.sql).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s = %d, want %d", c.sql, got, c.want)
		}
	}
}
