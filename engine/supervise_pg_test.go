package engine_test

import (
	"context"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
)

// Two instances (two engines, two pools) on one PostgreSQL database scan
// at once: every alarm is raised once.
func TestScannersRaiseOncePostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshDatabase(t)
	ctx := context.Background()
	var engines []*engine.Engine
	for range 2 {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e, err := engine.New(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	e := engines[0]
	if err := e.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.AddDepartment(ctx, &tongban.Department{Code: "zx", Name: "区指挥中心", Kind: tongban.DeptCentre}); err != nil {
		t.Fatal(err)
	}
	name, dept, roles, pw := "受理员", "zx", "intake", testPassword
	intake, err := e.AddUser(ctx, "intake", engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	scannersOnce(t, ctx, engines[0], engines[1], intake)
}
