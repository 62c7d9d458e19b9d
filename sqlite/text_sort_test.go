package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tongban/tongban"
)

// A search with an explicit sort gives the same pages whether it reads
// windows of the sort's index (with filters too, handing over to the walk
// when a window grows too wide without holding the page), walks it, or
// joins and sorts every match, for every sort, with and without filters,
// on every page — over cases whose times are not in id order and whose
// deadlines tie.
func TestSearchSortedPlansAgree(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := fillSearchCorpus(ctx, db, 3000, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RebuildText(ctx); err != nil {
		t.Fatal(err)
	}
	plans := map[string]context.Context{}
	for _, p := range []string{"window", "narrow", "walk", "join"} {
		plans[p] = context.WithValue(ctx, planKey{}, p)
	}
	walk, join := plans["walk"], plans["join"]
	ids := func(p *tongban.CasePage) []int64 {
		out := make([]int64, len(p.Cases))
		for i, c := range p.Cases {
			out[i] = c.ID
		}
		return out
	}
	cats := map[string]bool{}
	filters := []tongban.CaseFilter{{}, {Status: tongban.StatusOpen}, {Status: tongban.StatusClosed}, {Steps: []string{"handle", "review"}}}
	checked, nonEmpty := 0, 0
	for _, q := range []string{"噪音", "小区", "油烟 饭店", "路灯", "广场舞", "没有这个词"} {
		for _, base := range filters {
			for _, sort := range []string{"-received", "received", "deadline", "-updated"} {
				for _, off := range []int{0, 20, 140, 5000} {
					f := base
					f.Query, f.Sort, f.Limit, f.Offset = q, sort, 20, off
					name := fmt.Sprintf("q=%s status=%s steps=%v sort=%s offset=%d", q, f.Status, f.Steps, sort, off)
					pw, err := db.ListCases(walk, f)
					if err != nil {
						t.Fatalf("%s walk: %v", name, err)
					}
					pj, err := db.ListCases(join, f)
					if err != nil {
						t.Fatalf("%s join: %v", name, err)
					}
					pa, err := db.ListCases(ctx, f)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if !slices.Equal(ids(pw), ids(pj)) || !slices.Equal(ids(pa), ids(pj)) || pw.Total != pj.Total {
						t.Fatalf("%s:\n walk %v (total %d)\n join %v (total %d)\n auto %v", name, ids(pw), pw.Total, ids(pj), pj.Total, ids(pa))
					}
					for _, p := range []string{"window", "narrow"} {
						pp, err := db.ListCases(plans[p], f)
						if err != nil {
							t.Fatalf("%s %s: %v", name, p, err)
						}
						if !slices.Equal(ids(pp), ids(pj)) {
							t.Fatalf("%s:\n %s %v\n join %v", name, p, ids(pp), ids(pj))
						}
					}
					checked++
					if len(pj.Cases) > 0 {
						nonEmpty++
						if off == 0 && sort == "deadline" {
							cats[pj.Cases[0].Category] = true
						}
					}
					// The order is the sort's.
					for i := 1; i < len(pj.Cases); i++ {
						a, b := pj.Cases[i-1], pj.Cases[i]
						var ok bool
						switch sort {
						case "-received":
							ok = a.ReceivedAt.After(b.ReceivedAt) || a.ReceivedAt.Equal(b.ReceivedAt) && a.ID > b.ID
						case "received":
							ok = a.ReceivedAt.Before(b.ReceivedAt) || a.ReceivedAt.Equal(b.ReceivedAt) && a.ID < b.ID
						case "-updated":
							ok = !a.UpdatedAt.Before(b.UpdatedAt)
						case "deadline":
							ok = a.Status > b.Status || a.Status == b.Status && (a.Deadline.Before(b.Deadline) || a.Deadline.Equal(b.Deadline) && a.ID < b.ID)
						}
						if !ok {
							t.Fatalf("%s: %d before %d is out of order", name, a.ID, b.ID)
						}
					}
				}
			}
		}
	}
	if nonEmpty < checked/3 {
		t.Fatalf("only %d of %d pages had results: the corpus does not exercise the walk", nonEmpty, checked)
	}
	// With a category (walked through cases_category).
	for cat := range cats {
		for _, sort := range []string{"-received", "received", "deadline"} {
			f := tongban.CaseFilter{Query: "小区", Category: cat, Sort: sort, Limit: 10}
			pw, err1 := db.ListCases(walk, f)
			pj, err2 := db.ListCases(join, f)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !slices.Equal(ids(pw), ids(pj)) {
				t.Fatalf("category %s sort %s: walk %v join %v", cat, sort, ids(pw), ids(pj))
			}
		}
	}
}
