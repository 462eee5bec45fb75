package app

// wirePages mounts the dashboard's pages on the server (core/dashboard).
func (a *App) wirePages() {}
