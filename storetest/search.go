package storetest

import (
	"slices"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/textproc"
)

// search checks full-text search (CaseFilter.Query): two-character
// queries find every text containing them (also inside longer words),
// title matches rank first, filters and paging combine with the query,
// changed text is re-indexed in the same write, and the stored
// signatures come back through ScanTexts.
func (s *suite) search(t *testing.T) {
	st := s.open(t)
	ctx := t.Context()
	mk := func(title, body, addr, cat string, day int) *tongban.Case {
		c := newCase()
		c.Attachments, c.Pending, c.Attrs = nil, nil, nil
		c.Title, c.Body, c.Address, c.Category = title, body, addr, cat
		c.ReceivedAt = at(day, 9, 0)
		create(t, st, c)
		return c
	}
	a := mk("饭店油烟扰民", "楼下饭店每天排放油烟，气味很大。", "建设路12号", "env", 1)
	b := mk("小区环境问题", "楼下餐馆的抽油烟机噪音很大，晚上睡不着。", "和平街3号", "env", 2)
	c := mk("夜间施工噪音", "工地夜间施工，噪音扰民。", "人民路5号", "noise", 3)
	d := mk("路灯不亮", "小区门口的路灯坏了三天。", "建设路8号", "lights", 4)
	e := mk("噪声", "广场舞音响太吵。", "文化广场", "noise", 5)

	ids := func(p *tongban.CasePage) []int64 {
		out := []int64{}
		for _, c := range p.Cases {
			out = append(out, c.ID)
		}
		return out
	}
	list := func(f tongban.CaseFilter) *tongban.CasePage {
		t.Helper()
		p, err := st.ListCases(ctx, f)
		must(t, err)
		n, err := st.CountCases(ctx, f)
		must(t, err)
		if n != p.Total {
			t.Errorf("CountCases(%q) = %d, ListCases total %d", f.Query, n, p.Total)
		}
		return p
	}
	set := func(f tongban.CaseFilter, want ...*tongban.Case) {
		t.Helper()
		got := ids(list(f))
		w := []int64{}
		for _, c := range want {
			w = append(w, c.ID)
		}
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("query %q: got %v, want %v", f.Query, got, w)
		}
	}
	set(tongban.CaseFilter{Query: "油烟"}, a, b) // inside 抽油烟机 too
	set(tongban.CaseFilter{Query: "噪音"}, b, c)
	set(tongban.CaseFilter{Query: "噪"}, b, c, e) // one character: any word starting with it
	set(tongban.CaseFilter{Query: "油烟 噪音"}, b)
	set(tongban.CaseFilter{Query: "油烟机"}, b)
	set(tongban.CaseFilter{Query: "烟油"})
	set(tongban.CaseFilter{Query: "建设路"}, a, d)
	set(tongban.CaseFilter{Query: "噪音", Category: "noise"}, c)
	set(tongban.CaseFilter{Query: "噪音", From: at(3, 0, 0), To: at(4, 0, 0)}, c)
	set(tongban.CaseFilter{Query: d.TrackingCode}, d)

	// Ranking: the title match first.
	if got := ids(list(tongban.CaseFilter{Query: "噪音"})); len(got) != 2 || got[0] != c.ID {
		t.Errorf("噪音 ranked %v, want the title match %d first", got, c.ID)
	}
	if got := ids(list(tongban.CaseFilter{Query: "油烟"})); len(got) != 2 || got[0] != a.ID {
		t.Errorf("油烟 ranked %v, want the title match %d first", got, a.ID)
	}
	// Paging keeps the total.
	p := list(tongban.CaseFilter{Query: "噪", Limit: 2})
	if len(p.Cases) != 2 || p.Total != 3 {
		t.Errorf("page of 2: %d cases, total %d; want 2 of 3", len(p.Cases), p.Total)
	}
	p2 := list(tongban.CaseFilter{Query: "噪", Limit: 2, Offset: 2})
	if len(p2.Cases) != 1 || slices.Contains(ids(p), p2.Cases[0].ID) {
		t.Errorf("second page %v overlaps first %v", ids(p2), ids(p))
	}
	// An explicit sort overrides relevance.
	if got := ids(list(tongban.CaseFilter{Query: "噪", Sort: "received"})); !slices.Equal(got, []int64{b.ID, c.ID, e.ID}) {
		t.Errorf("sorted by received: %v", got)
	}

	// A reply written later is searchable; changed text is re-indexed.
	ev, expect := act(d, "reply", d.Step, nil)
	d.Reply = "已更换灯泡，恢复照明。"
	must(t, st.UpdateCase(ctx, d, expect, ev))
	set(tongban.CaseFilter{Query: "灯泡"}, d)
	ev, expect = act(d, "edit", d.Step, nil)
	d.Title = "路灯损坏"
	must(t, st.UpdateCase(ctx, d, expect, ev))
	set(tongban.CaseFilter{Query: "不亮"})
	set(tongban.CaseFilter{Query: "损坏"}, d)

	// Signatures are stored with the case.
	var got []*tongban.CaseText
	must(t, st.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, From: at(2, 0, 0), WithBody: true}, func(ct *tongban.CaseText) error {
		got = append(got, ct)
		return nil
	}))
	if len(got) != 4 || got[0].ID != b.ID {
		t.Fatalf("ScanTexts from day 2: %d cases", len(got))
	}
	sig, ok := textproc.SignatureFromBytes(got[0].Sig)
	want := textproc.SignCase(b.Title, b.Body)
	if !ok || sig != want || got[0].Body != b.Body || got[0].Phone != b.Requester.Phone {
		t.Errorf("ScanTexts: signature ok=%v equal=%v, body %q", ok, sig == want, got[0].Body)
	}
	n, err := st.RebuildText(ctx)
	must(t, err)
	if n != 0 {
		t.Errorf("RebuildText on an indexed store indexed %d", n)
	}

	// A signature its creator computed (Case.TextSig) is stored as given,
	// not computed again, and taken off the case; here it is, against the
	// rule, another text's, to tell the two apart.
	f := newCase()
	f.Attachments, f.Pending, f.Attrs = nil, nil, nil
	f.Title, f.Body, f.ReceivedAt = "井盖缺失", "路口井盖缺失一周。", at(9, 9, 0)
	given := textproc.SignCase(a.Title, a.Body)
	f.TextSig = given.Bytes()
	create(t, st, f)
	if f.TextSig != nil {
		t.Error("CreateCase left TextSig on the case")
	}
	got = nil
	must(t, st.ScanTexts(ctx, tongban.TextScan{Kind: tongban.KindRequest, From: at(9, 0, 0)}, func(ct *tongban.CaseText) error {
		got = append(got, ct)
		return nil
	}))
	if len(got) != 1 || got[0].ID != f.ID {
		t.Fatalf("ScanTexts from day 9: %d cases", len(got))
	}
	if sig, ok := textproc.SignatureFromBytes(got[0].Sig); !ok || sig != given {
		t.Errorf("stored signature ok=%v, the one given: %v", ok, sig == given)
	}
}
