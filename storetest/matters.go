package storetest

import (
	"context"
	"testing"

	"github.com/tongban/tongban"
)

// matters checks the service catalogue: every put is a new version, the
// latest is what lists and version 0 return, and old versions stay.
func (s *suite) matters(t *testing.T) {
	st := s.open(t)
	ms, ok := st.(tongban.MatterStore)
	if !ok {
		t.Skip("the store keeps no service catalogue")
	}
	ctx := context.Background()
	if _, err := ms.Matter(ctx, "none", 0); tongban.ErrorCode(err) != tongban.ENotFound {
		t.Fatalf("missing matter: %v", err)
	}
	mk := func(code, name string) *tongban.Matter {
		return &tongban.Matter{Code: code, Name: name, LegalBasis: "依据", Free: true, StatutoryDays: 20, PromisedDays: 10, Lead: "zjj",
			Steps: []tongban.MatterStep{{Name: "审查", Mode: tongban.StepParallel, Departments: []string{"a", "b"}, LimitDays: 5}},
			Form:  []tongban.FormField{{Name: "usci", Label: "代码", Type: "usci", Required: true}}}
	}
	for i, m := range []*tongban.Matter{mk("B-1", "乙 v1"), mk("A-1", "甲 v1"), mk("B-1", "乙 v2")} {
		m.CreatedBy = "admin"
		if err := ms.PutMatter(ctx, m); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		if want := map[int]int{0: 1, 1: 1, 2: 2}[i]; m.Version != want {
			t.Fatalf("put %d: version %d, want %d", i, m.Version, want)
		}
	}
	latest, err := ms.Matter(ctx, "B-1", 0)
	if err != nil || latest.Version != 2 || latest.Name != "乙 v2" || latest.CreatedBy != "admin" || latest.CreatedAt.IsZero() {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	v1, err := ms.Matter(ctx, "B-1", 1)
	if err != nil || v1.Name != "乙 v1" || len(v1.Steps) != 1 || v1.Steps[0].Departments[1] != "b" || v1.Form[0].Type != "usci" {
		t.Fatalf("v1: %+v %v", v1, err)
	}
	if _, err := ms.Matter(ctx, "B-1", 3); tongban.ErrorCode(err) != tongban.ENotFound {
		t.Fatalf("missing version: %v", err)
	}
	all, err := ms.ListMatters(ctx)
	if err != nil || len(all) != 2 || all[0].Code != "A-1" || all[1].Code != "B-1" || all[1].Version != 2 {
		t.Fatalf("list: %v", err)
	}
}
