// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by TONGBAN_TEST_PG (default: the local server CI
// starts). A test that cannot reach it fails with a message saying how to
// point it at one; TONGBAN_SKIP_PG=1 skips such tests explicitly.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server the tests use when TONGBAN_TEST_PG is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const help = "the PostgreSQL tests need a server: set TONGBAN_TEST_PG=postgres://… (default " + DefaultDSN + "), or TONGBAN_SKIP_PG=1 to skip them"

// AdminDSN returns the DSN of the test server, skipping when asked to.
func AdminDSN(t testing.TB) string {
	t.Helper()
	if os.Getenv("TONGBAN_SKIP_PG") == "1" {
		t.Skip("TONGBAN_SKIP_PG=1: " + help)
	}
	if dsn := os.Getenv("TONGBAN_TEST_PG"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// withDatabase returns dsn pointing at database name instead.
func withDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("TONGBAN_TEST_PG: %v", err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value: the last one wins
}

// FreshDatabase creates an empty database, drops it when the test ends,
// and returns its DSN.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("cannot reach PostgreSQL at %s: %v — %s", admin, err, help)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "tb_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatalf("create database: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// KeptDatabase returns the DSN of the database name on the test server,
// creating it when missing (created reports that), and never drops it:
// for benchmarks whose data outlives a run.
func KeptDatabase(t testing.TB, name string) (dsn string, created bool) {
	t.Helper()
	admin := AdminDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("cannot reach PostgreSQL at %s: %v — %s", admin, err, help)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatalf("look for database %s: %v", name, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("create database %s: %v", name, err)
		}
	}
	return withDatabase(t, admin, name), !exists
}
