package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tongban/tongban"
)

// Everyday one- and two-word queries the search benchmarks run.
var (
	BenchOneWord = []string{"噪音", "油烟", "路灯", "垃圾", "停车", "漏水", "施工", "广场舞", "占道", "物业", "违建", "小区", "排水", "拖欠", "学校"}
	BenchTwoWord = []string{"噪音 夜间", "油烟 饭店", "路灯 不亮", "垃圾 清运", "停车 占道", "漏水 楼上", "施工 扰民", "物业 收费", "小区 电梯", "工资 拖欠"}
)

// BenchSearch runs the same searches on any store holding total cases,
// one ListCases with Limit 20 per op, and reports p50/p95 in ms, the mean
// (capped) total and the store's size, so both stores' figures compare.
func BenchSearch(b *testing.B, st tongban.Store, total int) {
	ctx := context.Background()
	for _, words := range []struct {
		name string
		qs   []string
	}{{"one", BenchOneWord}, {"two", BenchTwoWord}} {
		for _, tc := range []struct {
			name string
			f    tongban.CaseFilter
		}{
			{"relevance", tongban.CaseFilter{}},
			{"sort=-received", tongban.CaseFilter{Sort: "-received"}},
			{"sort=received", tongban.CaseFilter{Sort: "received"}},
			{"sort=deadline", tongban.CaseFilter{Sort: "deadline"}},
			{"sort=-updated", tongban.CaseFilter{Sort: "-updated"}},
			{"open,sort=-received", tongban.CaseFilter{Status: tongban.StatusOpen, Sort: "-received"}},
			{"open,relevance", tongban.CaseFilter{Status: tongban.StatusOpen}},
			{"sort=-received,page=50", tongban.CaseFilter{Sort: "-received", Offset: 980}},
		} {
			b.Run(fmt.Sprintf("%s/%s", words.name, tc.name), func(b *testing.B) {
				ds := make([]time.Duration, 0, b.N)
				matches := 0
				for i := 0; b.Loop(); i++ {
					f := tc.f
					f.Query, f.Limit = words.qs[i%len(words.qs)], 20
					t0 := time.Now()
					p, err := st.ListCases(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					ds = append(ds, time.Since(t0))
					matches += p.Total // capped at tongban.MaxSearchTotal
				}
				slices.Sort(ds)
				q := func(p float64) float64 {
					return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
				}
				b.ReportMetric(q(0.5), "p50-ms")
				b.ReportMetric(q(0.95), "p95-ms")
				b.ReportMetric(float64(matches)/float64(len(ds)), "total")
				b.ReportMetric(float64(total), "cases")
			})
		}
	}
}
