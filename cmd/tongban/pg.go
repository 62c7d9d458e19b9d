package main

import (
	"context"
	"errors"

	"github.com/tongban/tongban"
)

func openPostgres(ctx context.Context, dsn string) (tongban.Store, error) {
	return nil, errors.New("PostgreSQL support is not built in yet")
}
