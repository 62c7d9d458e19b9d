package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
)

// TestSearchPlansAgree checks that a load indexes its cases (the search
// index built at the end), and that every way a search can be answered —
// walking the primary key or listing matches from the GIN index, a page
// sliced from the walk, ranked among the matches, walked along its
// order's index (found or given up; every sort has one since migration
// 0008), listed from the GIN index and sorted, or left to the planner —
// gives the page and total
// of the plain query: ORDER BY the order, LIMIT, OFFSET. Estimates are
// forced to take each way. The cases' times are out of id order and tie,
// and words are common enough that more than tongban.MaxSearchTotal match.
func TestSearchPlansAgree(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 3000
	rnd := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	words := []struct {
		w string
		p float64
	}{{"噪音扰民", 0.6}, {"饭店油烟", 0.45}, {"路灯不亮", 0.05}, {"违规停车", 0.35}, {"广场舞", 0.4}}
	b := &tongban.LoadBatch{}
	for id := int64(1); id <= n; id++ {
		var body []string
		for _, w := range words {
			if rnd.Float64() < w.p {
				body = append(body, w.w)
			}
		}
		at := base.Add(time.Duration(rnd.IntN(90*24)) * time.Hour)
		if id%10 == 0 {
			at = base // ties
		}
		c := &tongban.Case{ID: id, Kind: tongban.KindRequest, Workflow: "request", TrackingCode: tongban.NewTrackingCode(), Channel: "web",
			Category: []string{"a", "b", "c"}[rnd.IntN(3)], Title: "来电", Body: strings.Join(body, "，") + "。", Step: "handle", Status: tongban.StatusOpen,
			ReceivedAt: at, UpdatedAt: base.Add(time.Duration(rnd.IntN(1000)) * time.Hour), StepStarted: at,
			Deadline: base.Add(time.Duration(rnd.IntN(30)) * 24 * time.Hour), Version: 1, LastHash: "x"}
		if id%3 == 0 {
			c.Status, c.Step = tongban.StatusClosed, "closed"
		}
		b.Cases = append(b.Cases, c)
	}
	if err := db.Load(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The load into an empty table dropped the search index; FinishLoad
	// builds it, and every loaded case is indexed already.
	searchIndex := func() bool {
		var ok bool
		if err := db.pool.QueryRow(ctx, `SELECT to_regclass('cases_search') IS NOT NULL`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if searchIndex() {
		t.Error("the search index is there during a load into an empty table")
	}
	if err := db.FinishLoad(ctx); err != nil {
		t.Fatal(err)
	}
	if !searchIndex() {
		t.Fatal("FinishLoad did not build the search index")
	}
	if k, err := db.RebuildText(ctx); err != nil || k != 0 {
		t.Fatalf("RebuildText after a load indexed %d (%v), want 0", k, err)
	}
	// Should a load stop before FinishLoad, RebuildText (tongban serve
	// runs it at start) builds the index.
	if _, err := db.pool.Exec(ctx, `DROP INDEX cases_search`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RebuildText(ctx); err != nil || !searchIndex() {
		t.Fatalf("RebuildText did not build a missing search index (%v)", err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE cases`); err != nil {
		t.Fatal(err)
	}
	ests := map[string]searchEstimate{
		"walk":        {rows: n, text: n, all: n},                // walk for the total, pages walked in at most 2·(offset+limit) rows
		"bitmap":      {rows: n, text: 1, all: 1},                // GIN, filters tested on its matches; pages walked far
		"bitmap-plan": {rows: n, text: 1000, all: 10},            // GIN as the planner likes
		"walk-page":   {rows: n, text: n, all: n, force: "walk"}, // pages walked along their order's index, or else listed
		"list-page":   {rows: n, text: 1, all: 1, force: "list"}, // pages listed from the GIN index and sorted
	}
	for _, q := range []string{"噪音", "油烟", "路灯", "噪音 停车", "广场舞", "噪", "噪音 路灯", "无此词"} {
		for _, flt := range []tongban.CaseFilter{{}, {Status: tongban.StatusOpen}, {Category: "b"}, {From: base.Add(24 * time.Hour), To: base.Add(60 * 24 * time.Hour)}} {
			for _, sort := range []string{"", "-received", "received", "deadline", "-updated"} {
				for _, off := range []int{0, 40, 980, 1500} {
					f := flt
					f.Query, f.Sort, f.Offset, f.Limit = q, sort, off, 20
					name := fmt.Sprintf("%q status=%s category=%s from=%v sort=%s offset=%d", q, f.Status, f.Category, !f.From.IsZero(), sort, off)
					want, total := plainSearch(t, db, f)
					check := func(way string, p *tongban.CasePage, err error) {
						t.Helper()
						if err != nil {
							t.Fatalf("%s (%s): %v", name, way, err)
						}
						var got []int64
						for _, c := range p.Cases {
							got = append(got, c.ID)
						}
						if p.Total != total || !slices.Equal(got, want) {
							t.Fatalf("%s (%s): total %d, page %v; want total %d, page %v", name, way, p.Total, got, total, want)
						}
					}
					p, err := db.ListCases(ctx, f)
					check("estimated", p, err)
					for way, e := range ests {
						p, err := db.searchWith(ctx, f, where(f), 20, e)
						check(way, p, err)
					}
					if off == 0 && sort == "" {
						got, err := db.CountCases(ctx, f)
						if err != nil || got != total {
							t.Fatalf("%s: CountCases %d, %v; want %d", name, got, err, total)
						}
					}
				}
			}
		}
	}
}

// plainSearch is the page and total of a search as one plain query each.
func plainSearch(t *testing.T, db *DB, f tongban.CaseFilter) ([]int64, int) {
	t.Helper()
	ctx := context.Background()
	w := where(f)
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT least(count(*), $`+fmt.Sprint(len(w.args)+1)+`) FROM cases`+w.sql(), append(w.args, tongban.MaxSearchTotal)...).Scan(&total); err != nil {
		t.Fatal(err)
	}
	order := orderBy(f.Sort)
	if f.Sort == "" {
		order = ` ORDER BY id DESC`
		if total < tongban.MaxSearchTotal {
			order = ` ORDER BY ts_rank_cd(search_tsv, to_tsquery('simple', ` + w.tsq + `)) DESC, id DESC`
		}
	}
	lim, off := w.arg(f.Limit), w.arg(f.Offset)
	ids, err := db.queryIDs(ctx, `SELECT id FROM cases`+w.sql()+order+` LIMIT `+lim+` OFFSET `+off, w.args)
	if err != nil {
		t.Fatal(err)
	}
	return ids, total
}
