package postgres

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tongban/tongban"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/textproc"
)

// tsvTexts are case fields (title, address, body, reply) of every kind
// caseTSVector meets: Chinese, ASCII, numbers, punctuation, quotes and
// backslashes, full-width forms, empty fields, a lexeme repeated past
// the positions PostgreSQL keeps, text past the largest position, and
// random mixtures.
func tsvTexts() [][4]string {
	long := strings.Repeat("噪音扰民 ", 5000) // 20,000 tokens of 4 lexemes
	var many strings.Builder              // 20,000 lexemes: past position 16,383
	for i := range 20000 {
		fmt.Fprintf(&many, "%d ", i%17000)
	}
	texts := [][4]string{
		{"", "", "", ""},
		{"违章搭建", "", "", ""},
		{"", "", "小区北门有人在人行道上搭建彩钢棚，已持续一周，影响通行。", ""},
		{"油烟", "建设路88号", "饭店油烟扰民，油烟机没有开。油烟！", "已责令整改油烟"},
		{"It's a \"quote\" and a back\\slash \\' 'x'", "O'Brien's \\\\ road", "a\\b c'd e\"f '' \\", "don't"},
		{"ＡＢＣ　１２３ Ｈｅｌｌｏ", "Room 5B, No.12", "WiFi 5G 4g-lte e-mail x@y.com http://a.b/c 1.5 1e5 0x1F 007", "v1.2.3 --flag"},
		{"标点：，。！？；“”‘’（）【】《》、…—", "路—1号", "「引号」『书名』·间隔号", "~!@#$%^&*()_+-=[]{}|;:,.<>/?`"},
		{strings.Repeat("aa ", 300), strings.Repeat("aa ", 300), strings.Repeat("aa bb ", 400), "aa"},
		{"标题", "地址", long, long},
		{long, "", "", "末尾"},
		{"标题 1", "16999", many.String(), many.String()},
		{many.String(), "地址 0 1", "", "0"},
		{"12 12 12", "12", "12 abc 12", "12"},
		{"a", "a", "a", "a"},
	}
	alphabet := []string{"噪", "音", "扰", "民", "小", "区", "油", "烟", "a", "b", "z", "0", "9", "12", "abc", "x1",
		" ", " ", "，", "。", "'", "\"", "\\", "-", ".", "@", "/", "\n", "\t", "Ａ", "１", "　", "㐀", "䶵", "龥", "一"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var f [4]string
		for k := range f {
			var b strings.Builder
			for range r.IntN(200) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			f[k] = b.String()
		}
		texts = append(texts, f)
	}
	return texts
}

// caseTSVector builds what to_tsvector builds: compared in PostgreSQL,
// on text it vouches for; on text it does not, it says so.
func TestLoadTSVector(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.AdminDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := newTSVBuilder()
	q := `SELECT $1::tsvector = ` + tsvExpr(2) + `, $1::tsvector::text, (` + tsvExpr(2) + `)::text`
	check := func(f [4]string) bool {
		t.Helper()
		v, ok := b.caseTSVector(f)
		if !ok {
			return false
		}
		var same bool
		var got, want string
		if err := conn.QueryRow(ctx, q, v, textproc.IndexText(f[0]), textproc.IndexText(f[1]), textproc.IndexText(f[2]), textproc.IndexText(f[3])).Scan(&same, &got, &want); err != nil {
			t.Fatal(err)
		}
		if !same || got != want {
			t.Errorf("fields %q:\nbuilt     %.300s\nto_tsvector %.300s", f, got, want)
		}
		return true
	}
	n := 0
	for _, f := range tsvTexts() {
		if check(f) {
			n++
		}
	}
	if n < 200 {
		t.Errorf("only %d texts built in Go", n)
	}
	// Tokens it does not vouch for send the case to to_tsvector.
	for _, f := range [][4]string{{"café", "", "", ""}, {"", "", "Москва", ""}, {"", "", "", "鿐"}, {"ｶﾀｶﾅ", "", "", ""}, {"", "ひらがな", "", ""}} {
		if _, ok := b.caseTSVector(f); ok {
			t.Errorf("%q: built in Go, want to_tsvector", f)
		}
	}
}

// Loaded cases carry the search_tsv and text_sig a created case would,
// whichever way Load built them.
func TestLoadSearchTSV(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	batch := &tongban.LoadBatch{}
	texts := tsvTexts()
	texts = append(texts, [4]string{"café", "Москва", "鿐 ひらがな", "ｶﾀｶﾅ"})
	for i, f := range texts {
		id := int64(i + 1)
		batch.Cases = append(batch.Cases, &tongban.Case{ID: id, Kind: tongban.KindRequest, Workflow: "request", TrackingCode: fmt.Sprintf("T%011d", id),
			Channel: tongban.ChannelPhone, Title: f[0], Address: f[1], Body: f[2], Reply: f[3], Step: "handle", Status: tongban.StatusOpen,
			ReceivedAt: at, UpdatedAt: at, StepStarted: at, Deadline: at, Version: 1, LastHash: strings.Repeat("0", 64)})
	}
	if err := db.Load(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishLoad(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range batch.Cases {
		var same bool
		var sig []byte
		if err := db.pool.QueryRow(ctx, `SELECT search_tsv = `+tsvExpr(1)+`, text_sig FROM cases WHERE id = $5`,
			append(textArgs(c)[:4], c.ID)...).Scan(&same, &sig); err != nil {
			t.Fatal(err)
		}
		want := textproc.SignCase(c.Title, c.Body)
		if !same || string(sig) != string(want.Bytes()) {
			t.Errorf("case %d (%q): search_tsv as to_tsvector %v, text_sig as signed %v", c.ID, c.Title, same, string(sig) == string(want.Bytes()))
		}
	}
	if n, err := db.RebuildText(ctx); err != nil || n != 0 {
		t.Errorf("RebuildText after a load indexed %d, %v", n, err)
	}
}
