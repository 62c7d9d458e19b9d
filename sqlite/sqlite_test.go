package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/sqlite"
	"github.com/tongban/tongban/storetest"
)

func open(t *testing.T, path string) tongban.Store {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tongban.Store {
		return open(t, filepath.Join(t.TempDir(), "t.db"))
	}, storetest.Options{
		OpenBackup: open,
	})
}
