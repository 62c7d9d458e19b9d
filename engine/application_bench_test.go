package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/sqlite"
	"github.com/tongban/tongban/workflow"
)

// BenchmarkParallelJoins: a parallel step across 10 departments with 1,000
// applications in flight; all 10,000 opinions arrive at once (a goroutine
// each) and every join must complete with no lost or duplicated opinion.
// One iteration is the whole wave.
func BenchmarkParallelJoins(b *testing.B) {
	const depts, apps = 10, 1000
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		e, err := engine.New(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(e.EnsureDefaults(ctx))
		addUser := func(login, dept, roles string) *tongban.User {
			name, pw := login, testPassword
			u, err := e.AddUser(ctx, login, engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw})
			must(err)
			return u
		}
		must(e.AddDepartment(ctx, &tongban.Department{Code: "zjj", Name: "住建局"}))
		admin, intake := addUser("admin", "zjj", "admin"), addUser("intake", "zjj", "intake")
		var codes []string
		var users []*tongban.User
		for i := range depts {
			d := tongban.Department{Code: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("并联部门%d", i)}
			must(e.AddDepartment(ctx, &d))
			codes = append(codes, d.Code)
			users = append(users, addUser("h."+d.Code, d.Code, "handler"))
		}
		m := testMatter("P-BENCH")
		m.Steps = []tongban.MatterStep{{Name: "并联审查", Mode: tongban.StepParallel, Departments: codes, LimitDays: 5}}
		must(e.PutMatter(ctx, engine.Actor{User: admin}, m))
		filed := engine.WithNow(ctx, cst(2026, 9, 28, 9, 0))
		refs := make([]string, apps)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := w; j < apps; j += 16 {
					c, err := e.CreateApplication(filed, engine.Actor{User: intake}, engine.NewApplication{Matter: "P-BENCH", Channel: tongban.ChannelWindow,
						Form:      map[string]json.RawMessage{"project": json.RawMessage(`"项目"`), "area": json.RawMessage(`1`), "company": json.RawMessage(`"` + testUSCI + `"`)},
						Applicant: tongban.Applicant{Type: tongban.ApplicantCompany, Name: "公司", USCI: testUSCI, Phone: "13812345678"}})
					if err == nil {
						_, _, err = e.Act(filed, engine.Actor{User: intake}, c.TrackingCode, "accept", nil)
					}
					if err != nil {
						b.Error(err)
						return
					}
					refs[j] = c.TrackingCode
				}
			}()
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		answer := engine.WithNow(ctx, cst(2026, 9, 29, 10, 0))
		approve := map[string]json.RawMessage{"approve": json.RawMessage(`true`)}
		var failed atomic.Int64
		start := time.Now()
		b.StartTimer()
		for _, ref := range refs {
			for d := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, _, err := e.Act(answer, engine.Actor{User: users[d]}, ref, "opinion", approve); err != nil {
						failed.Add(1)
					}
				}()
			}
		}
		wg.Wait()
		b.StopTimer()
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "s/wave")
		b.ReportMetric(float64(depts*apps)/el.Seconds(), "opinions/s")
		if n := failed.Load(); n != 0 {
			b.Fatalf("%d opinions failed", n)
		}
		for _, ref := range refs {
			c, err := e.Find(ctx, ref)
			must(err)
			var ops []workflow.Opinion
			workflow.GetAttr(c, workflow.AttrOpinions, &ops)
			seen := map[string]bool{}
			for _, o := range ops {
				seen[o.Dept] = true
			}
			if c.Step != "decision" || len(ops) != depts || len(seen) != depts {
				b.Fatalf("%s: step %s, %d opinions (%d departments)", ref, c.Step, len(ops), len(seen))
			}
		}
		st.Close()
		b.StartTimer()
	}
}
