package app

import (
	"context"
	"io"

	"github.com/pfinni/pfinni/core/api"
)

// wireServices builds the domain services on the store, in dependency
// order, and registers their Close.
func (a *App) wireServices(ctx context.Context) error {
	return nil
}

// services lists the services the API serves.
func (a *App) services() api.Services {
	return api.Services{}
}

// bootstrap creates the first admin and the demo data on an empty
// database (embedded default).
func (a *App) bootstrap(ctx context.Context, out io.Writer) error {
	return nil
}
