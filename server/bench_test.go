package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/internal/pgtest"
	"github.com/tongban/tongban/postgres"
	"github.com/tongban/tongban/server"
	"github.com/tongban/tongban/sqlite"
)

// benchServer is a real server over a real SQLite file with a dispatcher
// token and an API key.
func benchServer(b *testing.B) (h http.Handler, token, key string) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return benchServerOn(b, st)
}

// benchServerPG is benchServer on a fresh PostgreSQL database
// (TONGBAN_TEST_PG), as one instance with the default pool.
func benchServerPG(b *testing.B) (h http.Handler, token, key string) {
	st, err := postgres.Open(context.Background(), pgtest.FreshDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return benchServerOn(b, st)
}

func benchServerOn(b *testing.B, st tongban.Store) (h http.Handler, token, key string) {
	ctx := context.Background()
	e, err := engine.New(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.EnsureDefaults(ctx); err != nil {
		b.Fatal(err)
	}
	if err := e.AddDepartment(ctx, &tongban.Department{Code: "centre", Name: "指挥中心", Kind: tongban.DeptCentre}); err != nil {
		b.Fatal(err)
	}
	name, dept, roles, pw := "派单员", "centre", "dispatcher", "bench-password"
	if _, err := e.AddUser(ctx, "disp", engine.UserChange{Name: &name, Dept: &dept, Roles: &roles, Password: &pw}); err != nil {
		b.Fatal(err)
	}
	token, _, _, err = e.Login(ctx, "disp", pw)
	if err != nil {
		b.Fatal(err)
	}
	key, _, err = e.NewAPIKey(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return server.New(e, server.DefaultOptions()).Handler(), token, key
}

func benchCreateBody(i int) []byte {
	body, _ := json.Marshal(map[string]any{"type": "投诉", "category": "fume", "title": fmt.Sprintf("基准测试 %d", i),
		"body": "小区门口的餐馆每天晚上油烟直排，居民窗户都不敢开。", "requester": map[string]string{"name": "测试", "phone": "13800000000"}})
	return body
}

// BenchmarkAPICreate files requests through the full HTTP handler stack
// (no network) with the durability promise kept: each 201 is committed.
func BenchmarkAPICreate(b *testing.B) { benchCreate(b, benchServer) }

// BenchmarkAPICreatePG is BenchmarkAPICreate on PostgreSQL.
func BenchmarkAPICreatePG(b *testing.B) { benchCreate(b, benchServerPG) }

func benchCreate(b *testing.B, setup func(*testing.B) (http.Handler, string, string)) {
	h, _, key := setup(b)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest("POST", "/api/v1/cases", bytes.NewReader(benchCreateBody(i)))
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkAPIGetCase reads case pages as a logged-in dispatcher.
func BenchmarkAPIGetCase(b *testing.B) { benchGetCase(b, benchServer) }

// BenchmarkAPIGetCasePG is BenchmarkAPIGetCase on PostgreSQL.
func BenchmarkAPIGetCasePG(b *testing.B) { benchGetCase(b, benchServerPG) }

func benchGetCase(b *testing.B, setup func(*testing.B) (http.Handler, string, string)) {
	h, token, key := setup(b)
	var ids []string
	for i := 0; i < 200; i++ {
		req := httptest.NewRequest("POST", "/api/v1/cases", bytes.NewReader(benchCreateBody(i)))
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(rec.Body.Bytes(), &out)
		ids = append(ids, fmt.Sprint(out.ID))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest("GET", "/api/v1/cases/"+ids[i%len(ids)], nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
