package main

import (
	"context"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/postgres"
)

func openPostgres(ctx context.Context, dsn string) (tongban.Store, error) {
	return postgres.Open(ctx, dsn)
}
